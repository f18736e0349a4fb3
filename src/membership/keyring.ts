/**
 * The gossip keyring, after memberlist's `Keyring`: an ordered set of AES keys (16, 24 or 32
 * bytes) where the first, the primary, encrypts and every key is tried in order to decrypt.
 * Rotating without downtime is three cluster-wide steps: {@link Keyring.addKey} the new key on
 * every node (all can now read it), {@link Keyring.useKey} it on every node (all now send with
 * it, and still read the old one from nodes not yet switched), then {@link Keyring.removeKey}
 * the old one. Keys are distributed out of band.
 *
 * {@link keyringEncryption} adapts a keyring to the engine's {@link MembershipEncryption} hooks.
 * The node's config decodes its base64 settings (`SECRET_KEY`, `SECRET_KEYS`) into the keys.
 * Changes take effect on the next message: in-flight operations use the keys they started with.
 *
 * @module
 */

import {
  encryptionOverhead,
  type EncryptionVersion,
  importAesGcmKey,
  isAesKeyLength,
  openPayload,
  sealedLength,
  sealPayload,
} from "./codec/crypto.ts";
import type { MembershipEncryption } from "./memberlist.ts";

interface KeyEntry {
  readonly raw: Uint8Array;
  readonly key: Promise<CryptoKey>;
}

/** An ordered set of gossip keys; the first (primary) encrypts, all decrypt. */
export class Keyring {
  // Replaced, never mutated, so an operation in flight keeps a consistent view.
  #entries: readonly KeyEntry[] = [];

  /**
   * Installs `keys`, the first as primary; duplicates are ignored. Throws a `RangeError` when
   * there is none or one is not 16, 24 or 32 bytes long.
   */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new RangeError("Cannot create keyring: no keys");
    for (const key of keys) this.addKey(key);
  }

  /** Number of installed keys. */
  get size(): number {
    return this.#entries.length;
  }

  /** Copies of the installed keys, primary first. */
  keys(): Uint8Array[] {
    return this.#entries.map((e) => e.raw.slice());
  }

  /** A copy of the primary key (the one that encrypts). */
  primaryKey(): Uint8Array {
    return this.#entries[0].raw.slice();
  }

  /** Whether `key` is installed. */
  has(key: Uint8Array): boolean {
    return this.#indexOf(key) >= 0;
  }

  /**
   * Installs `key` for decryption (it becomes primary only on an empty ring). Does nothing if it
   * is already there. Throws a `RangeError` unless it is 16, 24 or 32 bytes long.
   */
  addKey(key: Uint8Array): void {
    if (!isAesKeyLength(key.length)) {
      throw new RangeError(
        `Cannot add key: length must be 16, 24 or 32 bytes: received ${key.length}`,
      );
    }
    if (this.has(key)) return;
    const raw = key.slice();
    const imported = importAesGcmKey(raw);
    // Observed once here so a (never expected) import failure is not an unhandled rejection;
    // it still rejects every operation that awaits it.
    imported.catch(() => {});
    this.#entries = [...this.#entries, { raw, key: imported }];
  }

  /**
   * Makes the installed `key` primary (used for encryption from the next message on). Throws a
   * `RangeError` when it is not installed.
   */
  useKey(key: Uint8Array): void {
    const i = this.#indexOf(key);
    if (i < 0) throw new RangeError("Cannot use key: it is not in the keyring");
    const entries = [...this.#entries];
    const [entry] = entries.splice(i, 1);
    this.#entries = [entry, ...entries];
  }

  /**
   * Uninstalls `key`; returns whether it was installed. Throws a `RangeError` for the primary
   * key (switch the primary with {@link useKey} first).
   */
  removeKey(key: Uint8Array): boolean {
    const i = this.#indexOf(key);
    if (i === 0) throw new RangeError("Cannot remove key: it is the primary key");
    if (i < 0) return false;
    this.#entries = this.#entries.filter((_, j) => j !== i);
    return true;
  }

  /** Seals `plain` with the primary key and a random nonce: `[version][nonce][ct‖tag]`. */
  async encrypt(
    plain: Uint8Array,
    aad: Uint8Array,
    version: EncryptionVersion = 1,
  ): Promise<Uint8Array> {
    const primary = this.#entries[0];
    return await sealPayload(await primary.key, plain, aad, version);
  }

  /**
   * Opens a `[version][nonce][ct‖tag]` frame with the first key that authenticates it. Rejects
   * (`RangeError` for a malformed frame, `Error` when no key fits).
   */
  async decrypt(sealed: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    const keys = await Promise.all(this.#entries.map((e) => e.key));
    return await openPayload(keys, sealed, aad);
  }

  #indexOf(key: Uint8Array): number {
    return this.#entries.findIndex((e) => equalBytes(e.raw, key));
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Options of {@link keyringEncryption}. */
export interface KeyringEncryptionOptions {
  /**
   * The engine's protocol version (pCur). As in memberlist, version 1 sends padded frames
   * (encryption version 0), later versions unpadded ones (1). Both are always accepted.
   * @default 2
   */
  protocolVersion?: number;
}

/**
 * The engine hooks for `keyring`: packets sealed with the label as AAD, streams with the frame
 * header and label. The keyring stays live: add, use and remove keys while the engine runs.
 */
export function keyringEncryption(
  keyring: Keyring,
  options: KeyringEncryptionOptions = {},
): MembershipEncryption {
  const version: EncryptionVersion = (options.protocolVersion ?? 2) === 1 ? 0 : 1;
  const seal = (plain: Uint8Array, aad: Uint8Array) => keyring.encrypt(plain, aad, version);
  const open = (sealed: Uint8Array, aad: Uint8Array) => keyring.decrypt(sealed, aad);
  return {
    encryptPacket: seal,
    decryptPacket: open,
    streamSealer: { sealedLength: (n) => sealedLength(version, n), seal },
    decryptStream: open,
    packetOverhead: encryptionOverhead(version),
  };
}
