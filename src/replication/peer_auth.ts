/**
 * Authentication of replication traffic with the gossip keyring (`SECRET_KEY`/`SECRET_KEYS`):
 * {@link PeerAuth} signs what a node sends to its peers' internal routes and checks what it
 * receives, so a node without the cluster's key can neither push writes, nor read the data set
 * through a digest exchange, nor pose as a peer to one.
 *
 * - Keys: each gossip key gives a replication key by HKDF-SHA256 (WebCrypto; the gossip label is
 *   the `info`, so clusters with different labels do not accept each other's requests). The
 *   gossip key itself never leaves the process, and a replication key does not reveal it.
 * - Requests (`POST /internal/replicate`, `/internal/sync`, `/internal/read`, `/internal/list`,
 *   `/internal/purge`, the `GET /internal/stream` handshake) carry
 *   `X-Cachenode-Signature: v1 <epoch ms> <nonce> <HMAC-SHA256>` over the method, path, time,
 *   nonce and body, made with the primary key's replication key. A receiver accepts it with any
 *   key of its ring (rotation: a node already sending with the next key is still understood by
 *   nodes that hold it as a secondary) and only within {@link MAX_CLOCK_SKEW_MS} of its own
 *   clock. A replayed request is therefore refused after a minute, and within that minute it
 *   changes nothing: a batch holds versioned records that are already applied (last writer
 *   wins), a digest exchange, a read and a listing only read. A purge is the exception (replayed,
 *   it would delete what was written since), so its nonces are remembered for as long as its
 *   signature is valid and a second use is refused ({@link ONCE_ONLY_PATHS}).
 * - Answers carry a signature over the request's nonce, the status and the body, made with the
 *   key that verified the request, so a node also knows the answer came from a key holder.
 * - Stream frames: the handshake's nonce and key give a per-socket key; every frame carries a
 *   16-byte HMAC tag of its direction and content (batch frames one way, answers the other), so
 *   frames cannot be forged, moved to another socket or reflected.
 *
 * This authenticates; it does not encrypt: values still cross the network in clear text unless
 * the cluster runs TLS. The HMAC runs on `node:crypto` because it is synchronous: a stream frame
 * is checked in the socket's message handler without reordering frames.
 *
 * During a migration to encryption (memberlist's verify flags) the same flags apply here:
 * without `verifyOutgoing` nothing is signed; without `verifyIncoming` unsigned requests and
 * answers are accepted (signed ones are still checked), so nodes with and without keys
 * replicate with each other.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import type { Clock } from "../util/clock.ts";

/** The header that carries request and answer signatures. */
export const SIGNATURE_HEADER = "x-cachenode-signature";
/** How far a request's time may be from the receiver's clock, ms (replays older are refused). */
export const MAX_CLOCK_SKEW_MS = 60_000;
/** Bytes of the HMAC tag appended to each stream frame. */
export const FRAME_TAG_BYTES = 16;

/** Paths whose signed requests are accepted once (not idempotent); see the module doc. */
export const ONCE_ONLY_PATHS: ReadonlySet<string> = new Set(["/internal/purge"]);

const VERSION = "v1";
const HKDF_SALT = "cachenode replication v1";
const SIGNATURE = /^v1 (\d{1,16}) ([A-Za-z0-9_-]{22}) ([A-Za-z0-9_-]{43})$/;
const ANSWER_SIGNATURE = /^v1 ([A-Za-z0-9_-]{43})$/;
const utf8 = new TextEncoder();

/** Options of {@link PeerAuth.fromKeys}. */
export interface PeerAuthOptions {
  /** Clock for request times. */
  clock: Clock;
  /** The gossip label (`GOSSIP_LABEL`): part of the key derivation. @default "" */
  label?: string;
  /** Sign requests (memberlist's `GossipVerifyOutgoing`). @default true */
  sign?: boolean;
  /** Refuse unsigned requests and answers (memberlist's `GossipVerifyIncoming`). @default true */
  requireSigned?: boolean;
}

/** A signed request, kept by the sender to check the answer. */
export interface SentSignature {
  /** The header value to send. */
  readonly header: string;
  /** The request's nonce. */
  readonly nonce: string;
  /** Index of the key used (0: the primary). */
  readonly key: number;
}

/** Why a request was refused (for the 401's message). */
export type PeerAuthRefusal = { ok: false; reason: string };

/**
 * A request that may go on: signed (`key` and `nonce` then sign the answer), or unsigned where
 * that is allowed (both undefined).
 */
export interface PeerAuthGrant {
  /** Accepted. */
  ok: true;
  /** Index of the key that verified the signature; undefined for an unsigned request. */
  key?: number;
  /** The request's nonce; undefined for an unsigned request. */
  nonce?: string;
}

/** Seals and opens the frames of one replication stream. */
export interface FrameSealer {
  /** `frame` followed by its tag. */
  seal(frame: Uint8Array): Uint8Array;
  /** The frame without its tag, or `undefined` when the tag is wrong or missing. */
  open(sealed: Uint8Array): Uint8Array | undefined;
}

/** Signs and checks replication requests, answers and stream frames with derived keys. */
export class PeerAuth {
  readonly #keys: readonly Uint8Array[];
  readonly #clock: Clock;
  readonly #sign: boolean;
  readonly #requireSigned: boolean;
  // Nonces of once-only requests accepted, with when they may be forgotten (insertion order).
  readonly #usedNonces = new Map<string, number>();

  private constructor(keys: readonly Uint8Array[], options: PeerAuthOptions) {
    this.#keys = keys;
    this.#clock = options.clock;
    this.#sign = options.sign ?? true;
    this.#requireSigned = options.requireSigned ?? true;
  }

  /**
   * Derives a replication key from each gossip key (primary first). Rejects with a `RangeError`
   * when `keys` is empty.
   */
  static async fromKeys(keys: readonly Uint8Array[], options: PeerAuthOptions): Promise<PeerAuth> {
    if (keys.length === 0) {
      throw new RangeError("Cannot create replication auth: no keys: received an empty keyring");
    }
    const derived = await Promise.all(
      keys.map((k) => deriveReplicationKey(k, options.label ?? "")),
    );
    return new PeerAuth(derived, options);
  }

  /** Whether unsigned requests and answers are refused. */
  get requireSigned(): boolean {
    return this.#requireSigned;
  }

  /** The signature of a request, or `undefined` when this node does not sign. */
  signRequest(method: string, path: string, body?: Uint8Array): SentSignature | undefined {
    if (!this.#sign) return undefined;
    const time = String(Math.floor(this.#clock.now()));
    const nonce = base64url(crypto.getRandomValues(new Uint8Array(16)));
    const mac = this.#requestMac(0, method, path, time, nonce, body);
    return { header: `${VERSION} ${time} ${nonce} ${mac}`, nonce, key: 0 };
  }

  /**
   * Checks what can be checked before the body is read: a signature is present when required,
   * well-formed, and within {@link MAX_CLOCK_SKEW_MS}. `undefined` when the request may go on.
   */
  precheck(header: string | null): PeerAuthRefusal | undefined {
    if (header === null) {
      return this.#requireSigned
        ? { ok: false, reason: `Missing replication signature (${SIGNATURE_HEADER})` }
        : undefined;
    }
    const m = SIGNATURE.exec(header);
    if (!m) return { ok: false, reason: "Malformed replication signature" };
    const skew = Math.abs(this.#clock.now() - Number(m[1]));
    if (skew > MAX_CLOCK_SKEW_MS) {
      return {
        ok: false,
        reason: `Replication signature out of date: ${
          Math.round(skew)
        } ms from this node's clock, limit is ${MAX_CLOCK_SKEW_MS}`,
      };
    }
    return undefined;
  }

  /** Checks a request's signature (after {@link precheck}) against every key of the ring. */
  verifyRequest(
    header: string | null,
    method: string,
    path: string,
    body?: Uint8Array,
  ): PeerAuthGrant | PeerAuthRefusal {
    const early = this.precheck(header);
    if (early) return early;
    if (header === null) return { ok: true };
    const [, time, nonce, mac] = SIGNATURE.exec(header)!;
    for (let key = 0; key < this.#keys.length; key++) {
      if (sameText(this.#requestMac(key, method, path, time, nonce, body), mac)) {
        if (ONCE_ONLY_PATHS.has(path) && !this.#firstUse(nonce, Number(time))) {
          return { ok: false, reason: "Replayed replication request: its nonce was used already" };
        }
        return { ok: true, key, nonce };
      }
    }
    return { ok: false, reason: "Invalid replication signature: no key of this node matches" };
  }

  /** Records `nonce` of a request signed at `time`; false when it was seen already. */
  #firstUse(nonce: string, time: number): boolean {
    const now = this.#clock.now();
    for (const [n, forgetAt] of this.#usedNonces) {
      if (forgetAt > now) break;
      this.#usedNonces.delete(n);
    }
    if (this.#usedNonces.has(nonce)) return false;
    // Past this, precheck refuses the signature as out of date anyway.
    this.#usedNonces.set(nonce, Math.max(now, time) + MAX_CLOCK_SKEW_MS + 1);
    return true;
  }

  /** The signature header of an answer to a verified request (none for unsigned ones). */
  signAnswer(grant: PeerAuthGrant, status: number, body: Uint8Array): string | undefined {
    if (grant.key === undefined || grant.nonce === undefined) return undefined;
    return `${VERSION} ${this.#answerMac(grant.key, grant.nonce, status, body)}`;
  }

  /**
   * Whether an answer to `sent` is authentic: signed with the request's key, or (when this node
   * does not require signatures, or did not sign) unsigned.
   */
  verifyAnswer(
    sent: SentSignature | undefined,
    header: string | null,
    status: number,
    body: Uint8Array,
  ): boolean {
    if (sent === undefined) return true;
    if (header === null) return !this.#requireSigned;
    const m = ANSWER_SIGNATURE.exec(header);
    return m !== null && sameText(this.#answerMac(sent.key, sent.nonce, status, body), m[1]);
  }

  /**
   * The frame sealer of a stream opened with `nonce`, signed with key `key`; `side` is this
   * end's role (frames are tagged with the sender's direction).
   */
  frameSealer(key: number, nonce: string, side: "client" | "server"): FrameSealer {
    const session = createHmac("sha256", this.#keys[key]).update(`stream\n${nonce}`).digest();
    const out = side === "client" ? 0x43 : 0x53; // "C" / "S"
    const inbound = side === "client" ? 0x53 : 0x43;
    const tag = (direction: number, frame: Uint8Array) =>
      createHmac("sha256", session).update(Uint8Array.of(direction)).update(frame).digest()
        .subarray(0, FRAME_TAG_BYTES);
    return {
      seal(frame) {
        const sealed = new Uint8Array(frame.byteLength + FRAME_TAG_BYTES);
        sealed.set(frame);
        sealed.set(tag(out, frame), frame.byteLength);
        return sealed;
      },
      open(sealed) {
        if (sealed.byteLength < FRAME_TAG_BYTES) return undefined;
        const frame = sealed.subarray(0, sealed.byteLength - FRAME_TAG_BYTES);
        const got = sealed.subarray(frame.byteLength);
        return timingSafeEqual(tag(inbound, frame), got) ? frame : undefined;
      },
    };
  }

  #requestMac(
    key: number,
    method: string,
    path: string,
    time: string,
    nonce: string,
    body?: Uint8Array,
  ): string {
    const mac = createHmac("sha256", this.#keys[key])
      .update(`${VERSION}\n${method}\n${path}\n${time}\n${nonce}\n`);
    if (body) mac.update(body);
    return base64url(mac.digest());
  }

  #answerMac(key: number, nonce: string, status: number, body: Uint8Array): string {
    return base64url(
      createHmac("sha256", this.#keys[key]).update(`answer\n${nonce}\n${status}\n`).update(body)
        .digest(),
    );
  }
}

/** HKDF-SHA256 of a gossip key into a 32-byte replication key (WebCrypto). */
export async function deriveReplicationKey(
  gossipKey: Uint8Array,
  label: string,
): Promise<Uint8Array> {
  const base = await crypto.subtle.importKey("raw", gossipKey as BufferSource, "HKDF", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: utf8.encode(HKDF_SALT), info: utf8.encode(label) },
    base,
    256,
  );
  return new Uint8Array(bits);
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

function sameText(a: string, b: string): boolean {
  const x = utf8.encode(a);
  const y = utf8.encode(b);
  return x.byteLength === y.byteLength && timingSafeEqual(x, y);
}
