/**
 * `StreamReplicationTransport`: fast-path batches over one WebSocket per peer
 * (`ws://host:port/internal/stream`, or `wss://` with TLS, on the peer's API port; our own
 * client, see `ws_client.ts` for why), digest exchanges and every other request through an
 * inner transport (HTTP). It costs less CPU and latency per batch than `fetch` because a batch
 * is one frame on a connection that stays open instead of a full HTTP request (docs/benchmarks.md,
 * "Channel between nodes").
 *
 * Each batch carries a sequence number and its answer comes back on the same socket, so
 * several batches can be in flight; each has its own deadline. A deadline that passes, or a
 * socket that closes or fails, fails every batch in flight on it (the sender retries them) and
 * the next batch opens a new socket.
 *
 * With a {@link PeerAuth} (gossip key), the handshake is signed, the peer must prove it holds a
 * key of the ring in its `101` answer, and every frame both ways carries the socket's HMAC tag;
 * an answer with a wrong tag fails the socket (see `peer_auth.ts`).
 *
 * @module
 */

import type { Clock } from "../util/clock.ts";
import { DeadlineQueue } from "../util/deadlines.ts";
import { decodeAnswerFrame, encodeBatchFrame, FRAME_OK, READ_FRAME_FLAG } from "./stream_frames.ts";
import { WsClient, type WsClientOptions } from "./ws_client.ts";
import { type FrameSealer, type PeerAuth, SIGNATURE_HEADER } from "./peer_auth.ts";
import {
  type PeerAddress,
  PeerRequestError,
  type PeerTlsOptions,
  type ReplicationRoute,
  type ReplicationTransport,
} from "./transport.ts";

interface Pending {
  resolve(answer: Uint8Array): void;
  reject(err: PeerRequestError): void;
}

/** One peer's socket and the batches waiting for answers on it. */
class PeerStream {
  readonly opened: Promise<WsClient>;
  readonly pending = new Map<number, Pending>();
  #client: WsClient | undefined;
  #sealer: FrameSealer | undefined;
  // Abandons the connection attempt when the stream fails before it is open.
  readonly #connecting = new AbortController();
  #seq = 0;
  #closed = false;

  constructor(
    readonly url: string,
    readonly name: string,
    readonly onGone: () => void,
    options: WsClientOptions,
    peerAuth: PeerAuth | undefined,
  ) {
    const signature = peerAuth?.signRequest("GET", "/internal/stream");
    const headers = signature
      ? { ...options.headers, [SIGNATURE_HEADER]: signature.header }
      : options.headers;
    this.opened = WsClient.connect(url, {
      onMessage: (data) => this.#answer(data),
      onClose: (why) => this.fail(`stream to ${name} ${why}`),
    }, { ...options, headers, signal: this.#connecting.signal }).then((client) => {
      this.#client = client;
      if (this.#closed) client.close();
      const proof = client.handshakeHeaders.get(SIGNATURE_HEADER);
      if (peerAuth && !peerAuth.verifyAnswer(signature, proof, 101, new Uint8Array(0))) {
        client.close();
        throw new Error(`${name} did not prove it holds a key of this node's ring`);
      }
      // A peer that signed its answer tags its frames; one that did not (allowed only while
      // migrating to encryption) sends them bare.
      if (signature && proof !== null) {
        this.#sealer = peerAuth!.frameSealer(signature.key, signature.nonce, "client");
      }
      return client;
    }).catch((err) => {
      this.fail(`Cannot open stream to ${name}: ${(err as Error).message}`);
      throw new PeerRequestError(`Cannot open stream to ${name}`, 0, true);
    });
    this.opened.catch(() => {}); // also observed through send()
  }

  nextSeq(): number {
    this.#seq = (this.#seq + 1) % READ_FRAME_FLAG;
    return this.#seq;
  }

  /** `frame` as it goes on the wire (tagged when the socket is authenticated). */
  wire(frame: Uint8Array): Uint8Array {
    return this.#sealer ? this.#sealer.seal(frame) : frame;
  }

  #answer(data: Uint8Array): void {
    let frame;
    const opened = this.#sealer ? this.#sealer.open(data) : data;
    if (opened === undefined) return this.fail(`${this.name} sent an answer with a bad tag`);
    try {
      frame = decodeAnswerFrame(opened);
    } catch {
      return this.fail(`${this.name} sent a malformed answer`);
    }
    const p = this.pending.get(frame.seq);
    if (!p) return;
    this.pending.delete(frame.seq);
    if (frame.status === FRAME_OK) return p.resolve(frame.payload);
    const reason = new TextDecoder().decode(frame.payload);
    p.reject(new PeerRequestError(`${this.name} refused a batch: ${reason}`, 400, false));
  }

  /** Fails everything in flight and closes the socket (idempotent). */
  fail(why: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new PeerRequestError(why, 0, true));
    if (this.#closed) return;
    this.#closed = true;
    this.onGone();
    this.#connecting.abort();
    this.#client?.close(); // its onClose comes back here and finds nothing left to do
  }
}

/** Options of {@link StreamReplicationTransport}. */
export interface StreamReplicationTransportOptions {
  /** Carries `sync`, `list` and `purge` requests (and is closed with this transport). */
  inner: ReplicationTransport;
  /** Clock for deadlines. */
  clock: Clock;
  /** Bearer token sent when opening a socket (the peers' `AUTH_TOKEN`). @default none */
  authToken?: string;
  /** Open `wss://` sockets, trusting `caCerts` besides the system roots. @default `ws://` */
  tls?: PeerTlsOptions;
  /** Sign handshakes and tag frames with the gossip keyring. @default unsigned */
  peerAuth?: PeerAuth;
}

/**
 * {@link ReplicationTransport}: `replicate` and `read` over per-peer WebSockets, the rest via
 * `inner`.
 */
export class StreamReplicationTransport implements ReplicationTransport {
  readonly #inner: ReplicationTransport;
  readonly #clock: Clock;
  readonly #streams = new Map<string, PeerStream>();
  // Batch deadlines by length (a node uses one or two lengths).
  readonly #deadlines = new Map<number, DeadlineQueue>();
  readonly #socketOptions: WsClientOptions;
  readonly #scheme: "ws" | "wss";
  readonly #peerAuth: PeerAuth | undefined;
  #closed = false;

  /** Creates a transport with no open sockets. */
  constructor(options: StreamReplicationTransportOptions) {
    this.#peerAuth = options.peerAuth;
    this.#inner = options.inner;
    this.#clock = options.clock;
    const headers: Record<string, string> = {};
    if (options.authToken) headers.authorization = `Bearer ${options.authToken}`;
    this.#socketOptions = { headers, caCerts: options.tls?.caCerts };
    this.#scheme = options.tls ? "wss" : "ws";
  }

  /** See {@link ReplicationTransport.request}. */
  async request(
    peer: PeerAddress,
    route: ReplicationRoute,
    body: Uint8Array,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    if (route !== "replicate" && route !== "read") {
      return await this.#inner.request(peer, route, body, timeoutMs);
    }
    if (this.#closed) throw new PeerRequestError("Cannot send: transport closed", 0, false);
    const stream = this.#stream(peer);
    const seq = route === "read" ? (stream.nextSeq() | READ_FRAME_FLAG) >>> 0 : stream.nextSeq();
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>();
    // One timer for every batch's deadline (they all have the same length), not one each.
    const deadlines = this.#deadlinesFor(timeoutMs);
    const deadline = deadlines.add(() =>
      stream.fail(`no answer from ${peer.name} within ${timeoutMs} ms`)
    );
    stream.pending.set(seq, {
      resolve(answer) {
        deadlines.cancel(deadline);
        resolve(answer);
      },
      reject(err) {
        deadlines.cancel(deadline);
        reject(err);
      },
    });
    // Sent once the socket is open (callbacks on one promise run in order, so batches keep
    // theirs), while the deadline runs from now: a peer too busy to finish the handshake fails
    // the batch in time, instead of leaving it rejected before anyone awaited it (an unhandled
    // rejection, which ends the process).
    stream.opened.then((client) => client.send(stream.wire(encodeBatchFrame(seq, body)))).catch(
      (err) => stream.fail(`Cannot send to ${peer.name}: ${(err as Error).message}`),
    );
    return await promise;
  }

  /** Closes every socket (failing what is in flight) and the inner transport. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#streams.values()]) s.fail("transport closed");
    for (const d of this.#deadlines.values()) d.close();
    this.#inner.close();
  }

  #deadlinesFor(timeoutMs: number): DeadlineQueue {
    let deadlines = this.#deadlines.get(timeoutMs);
    if (deadlines === undefined) {
      deadlines = new DeadlineQueue(this.#clock, timeoutMs);
      this.#deadlines.set(timeoutMs, deadlines);
    }
    return deadlines;
  }

  #stream(peer: PeerAddress): PeerStream {
    const host = peer.host.includes(":") ? `[${peer.host}]` : peer.host;
    const url = `${this.#scheme}://${host}:${peer.httpPort}/internal/stream`;
    const known = this.#streams.get(peer.name);
    if (known && known.url === url) return known;
    known?.fail(`${peer.name} moved`);
    const stream: PeerStream = new PeerStream(
      url,
      peer.name,
      () => {
        if (this.#streams.get(peer.name) === stream) this.#streams.delete(peer.name);
      },
      this.#socketOptions,
      this.#peerAuth,
    );
    this.#streams.set(peer.name, stream);
    return stream;
  }
}
