/**
 * How replication messages reach a peer: {@link ReplicationTransport} (request/response calls
 * to a {@link ReplicationRoute}) and its production implementation over HTTP/1.1 between nodes'
 * API ports, {@link HttpReplicationTransport}: `POST /internal/{route}` with msgpack bodies (over HTTPS, with the node's bearer token and signed with the gossip key when
 * those are configured; see `peer_auth.ts`), over a connection pool the transport owns (kept
 * alive between requests, closed with the node), each request under a deadline on the injected
 * clock. Answers are read with a byte cap as they arrive (`fetch` decompresses, so a declared
 * length bounds nothing).
 *
 * @module
 */

import type { Clock } from "../util/clock.ts";
import { readAllLimited } from "../util/read_limited.ts";
import { MSGPACK_CONTENT_TYPE } from "./codec.ts";
import { type PeerAuth, SIGNATURE_HEADER } from "./peer_auth.ts";

/** Where a peer's replication endpoints are. */
export interface PeerAddress {
  /** Member name. */
  name: string;
  /** Host (IP literal) of the peer's HTTP API. */
  host: string;
  /** The peer's HTTP API port (from its gossip metadata). */
  httpPort: number;
}

/**
 * Which internal route a request goes to: batches, digest exchanges, reads of one key, and the
 * cluster-wide `list` and `purge` (`cluster_ops.ts`).
 */
export type ReplicationRoute = "replicate" | "sync" | "read" | "list" | "purge";

/** A request to a peer failed. */
export class PeerRequestError extends Error {
  /**
   * @param status HTTP status when the peer answered (0 when it did not)
   * @param retryable whether the same request may succeed later (network errors, 5xx but 501)
   */
  constructor(message: string, readonly status: number, readonly retryable: boolean) {
    super(message);
    this.name = "PeerRequestError";
  }

  /** The peer answered 503: it is still copying its data set. */
  get notReady(): boolean {
    return this.status === 503;
  }
}

/** Sends replication requests to peers. */
export interface ReplicationTransport {
  /**
   * Sends `body` to `route` of `peer` and resolves with the answer's body; rejects with a
   * {@link PeerRequestError} on any failure or after `timeoutMs`.
   */
  request(
    peer: PeerAddress,
    route: ReplicationRoute,
    body: Uint8Array,
    timeoutMs: number,
  ): Promise<Uint8Array>;
  /** Aborts requests in flight and releases connections. */
  close(): void;
}

/** Options of {@link HttpReplicationTransport}. */
export interface HttpReplicationTransportOptions {
  /** Clock for request deadlines. */
  clock: Clock;
  /** Largest answer body read, bytes. @default 512 MiB */
  maxResponseBytes?: number;
  /** Bearer token sent on every request (the peers' `AUTH_TOKEN`). @default none */
  authToken?: string;
  /** Reach peers over HTTPS, trusting `caCerts` besides the system roots. @default plain HTTP */
  tls?: PeerTlsOptions;
  /** Sign requests and check answers with the gossip keyring. @default unsigned */
  peerAuth?: PeerAuth;
}

/** How a node verifies its peers' certificates (peers serve HTTPS when it does). */
export interface PeerTlsOptions {
  /** PEM certificates of the authorities (or self-signed certificates) to trust. @default [] */
  caCerts?: string[];
}

/** {@link ReplicationTransport} over HTTP/1.1 keep-alive connections to peers' API ports. */
export class HttpReplicationTransport implements ReplicationTransport {
  readonly #clock: Clock;
  readonly #maxResponseBytes: number;
  readonly #client: Deno.HttpClient;
  readonly #headers: Record<string, string>;
  readonly #scheme: "http" | "https";
  readonly #inFlight = new Set<AbortController>();
  readonly #peerAuth: PeerAuth | undefined;
  #closed = false;

  /** Creates a transport with its own connection pool. */
  constructor(options: HttpReplicationTransportOptions) {
    this.#peerAuth = options.peerAuth;
    this.#clock = options.clock;
    this.#maxResponseBytes = options.maxResponseBytes ?? 512 * 1024 * 1024;
    this.#client = Deno.createHttpClient({
      http2: false,
      poolMaxIdlePerHost: 8,
      caCerts: options.tls?.caCerts,
    });
    this.#scheme = options.tls ? "https" : "http";
    this.#headers = { "content-type": MSGPACK_CONTENT_TYPE, "accept-encoding": "identity" };
    if (options.authToken) this.#headers.authorization = `Bearer ${options.authToken}`;
  }

  /** See {@link ReplicationTransport.request}. */
  async request(
    peer: PeerAddress,
    route: ReplicationRoute,
    body: Uint8Array,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    if (this.#closed) throw new PeerRequestError("Cannot send: transport closed", 0, false);
    const host = peer.host.includes(":") ? `[${peer.host}]` : peer.host;
    const url = `${this.#scheme}://${host}:${peer.httpPort}/internal/${route}`;
    const abort = new AbortController();
    this.#inFlight.add(abort);
    const timer = this.#clock.setTimeout(() => abort.abort(), timeoutMs);
    const signature = this.#peerAuth?.signRequest("POST", `/internal/${route}`, body);
    const headers = signature
      ? { ...this.#headers, [SIGNATURE_HEADER]: signature.header }
      : this.#headers;
    try {
      const res = await fetch(url, {
        method: "POST",
        body: body as BodyInit,
        headers,
        signal: abort.signal,
        client: this.#client,
      });
      const declared = Number(res.headers.get("content-length") ?? 0);
      const answer = declared > this.#maxResponseBytes
        ? undefined
        : await readAllLimited(res.body, this.#maxResponseBytes);
      if (answer === undefined) {
        await res.body?.cancel().catch(() => {});
        throw new PeerRequestError(
          `Answer from ${peer.name} too large: over ${this.#maxResponseBytes} bytes`,
          0,
          false,
        );
      }
      if (res.status !== 200) {
        const text = new TextDecoder().decode(answer.subarray(0, 200));
        throw new PeerRequestError(
          `${peer.name} answered ${res.status} on /internal/${route}: ${text}`,
          res.status,
          res.status >= 500 && res.status !== 501, // 501: the peer does not serve the route
        );
      }
      const answerSignature = res.headers.get(SIGNATURE_HEADER);
      if (this.#peerAuth && !this.#peerAuth.verifyAnswer(signature, answerSignature, 200, answer)) {
        throw new PeerRequestError(
          `Answer from ${peer.name} on /internal/${route} is not signed by a key of this node: ${
            answerSignature === null ? "no signature" : "wrong signature"
          }`,
          0,
          false,
        );
      }
      return answer;
    } catch (err) {
      if (err instanceof PeerRequestError) throw err;
      const why = abort.signal.aborted
        ? this.#closed ? "transport closed" : `no answer within ${timeoutMs} ms`
        : (err as Error).message;
      throw new PeerRequestError(`Cannot reach ${peer.name} at ${url}: ${why}`, 0, !this.#closed);
    } finally {
      this.#clock.clearTimeout(timer);
      this.#inFlight.delete(abort);
    }
  }

  /** See {@link ReplicationTransport.close}. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const a of this.#inFlight) a.abort();
    this.#client.close();
  }
}
