/**
 * Forwarding of `/cache/{key}` requests in partitioned mode (`REPLICAS=N`): a node that does not
 * own a key passes the request to the key's owners and relays the answer. Reads travel as `read`
 * frames on the per-peer replication stream (`replication/remote_read.ts`); writes as HTTP
 * requests over the node's pooled keep-alive peer client (with the cluster's token and TLS).
 *
 * - **Writes** (PUT, DELETE) are validated here first (a bad request never travels), then sent to
 *   the first owner that can be reached; an owner that does not answer in time gets no second
 *   copy of the write (it may have applied it): the client gets `504`.
 * - **Reads** (GET, HEAD) ask the owners in order, then (a node that does not own the key) its
 *   own store, then the members that owned the key's bucket under the membership of the last
 *   minute. A `404` also moves on: an owner that just joined,
 *   or took over the bucket of a dead member, may not hold the key yet while a former owner
 *   still does until its hand-off ends (a miss costs up to N requests and more right after a
 *   membership change; a hit usually one). An owning node looks in its own store first. A key
 *   found after owners missed it is given to them (read repair).
 * - **Views differ**: a node's view of the members may lack live members for a while (it missed
 *   the gossip of a restarted member's return, or declared a slow one dead), and then names
 *   owners that never held the key while its real holders are out of its sight; and a member
 *   may hold a key from a hand-over this node has not seen yet. So when every owner it can name
 *   missed a key whose bucket changed owners in the last minute, the read asks the other live
 *   members too, then passes the read (`X-Cache-Routed-For: <node>`) to a peer that answered,
 *   which routes it with its own view once more and never passes it on; its answer is relayed.
 *   A hit stays as cheap; such a miss costs a request per member and one routed read.
 * - A forwarded request carries `X-Cache-Forwarded: <node>` and is always served where it lands,
 *   so it is never forwarded again, and a routed read is never routed by a third node: a loop is
 *   impossible even while views of the membership differ. `X-Is-Sync: true` requests are never
 *   forwarded either (node-local by definition).
 *
 * @module
 */

import {
  type CacheEntryView,
  FORWARDED_HEADER,
  type KeyOwners,
  type KeyRouting,
  type PeerAddress,
} from "../service/mod.ts";
import { HttpError } from "./errors.ts";
import { headerOf } from "./header_probe.ts";

export { FORWARDED_HEADER };

/**
 * Header of a read a node passes to a peer to route with the peer's view of the members (value:
 * that node's name); the peer reads from the key's owners as it sees them, never passing it on.
 */
export const ROUTED_FOR_HEADER = "x-cache-routed-for";

// Request headers that travel with a forwarded request (auth is added by the peer client).
const PASSED_REQUEST_HEADERS = [
  "content-type",
  "x-write-acks",
  "x-cache-meta",
  "if-match",
  "if-none-match",
  "cache-tag",
  "x-cache-metadata",
];
// Answer headers relayed to the client.
const PASSED_RESPONSE_HEADERS = [
  "content-type",
  "etag",
  "x-ttl-ms",
  "retry-after",
  "x-cache-metadata",
  "cache-tag",
];

/** Forwards key requests to their owners; see the module doc. */
export class RequestForwarder {
  readonly #o: KeyRouting;
  readonly #stats: KeyRouting["stats"];

  /** Creates a forwarder for one node's {@link KeyRouting} (which keeps its counters). */
  constructor(routing: KeyRouting) {
    this.#o = routing;
    this.#stats = routing.stats;
  }

  /**
   * The owners of `key` when this request must be routed, or `undefined` when it is served here
   * whoever owns the key (`X-Is-Sync: true`, or already forwarded).
   */
  route(req: Request, key: string): KeyOwners | undefined {
    if (headerOf(req, "x-is-sync") === "true" || headerOf(req, FORWARDED_HEADER) !== null) {
      return undefined;
    }
    const owners = this.#o.ownersOf(key);
    // Routed for another node already: never passed on once more.
    if (!owners.moved || headerOf(req, ROUTED_FOR_HEADER) === null) return owners;
    return { ...owners, moved: false, others: undefined };
  }

  /**
   * A GET or HEAD (`req`) of `key`: this node's own entry first when it owns the key, then each
   * other owner's until one has it; `respond` makes the answer (a miss when no owner has the
   * key). A miss of a key whose bucket moved lately is routed once more by a peer that answered
   * (see the module doc). Nobody reachable → 503.
   */
  async read<T>(
    req: Request,
    key: string,
    owners: KeyOwners,
    local: () => CacheEntryView | undefined,
    respond: (entry: CacheEntryView | undefined) => T,
  ): Promise<T | Response> {
    let missed = owners.self;
    if (owners.self) {
      const own = local();
      if (own !== undefined) return respond(own);
    }
    let failure = "";
    const missedBy: PeerAddress[] = [];
    // Peers that answered a miss.
    const answered: PeerAddress[] = [];
    // `undefined` marks where a node that does not own the key looks in its own store: once the
    // owners missed it, before former owners (it may hold the key from when it owned the bucket,
    // until its hand-off ends).
    const candidates = [...owners.peers, undefined, ...owners.former, ...owners.others ?? []];
    for (const peer of candidates) {
      if (peer === undefined) {
        const own = owners.self ? undefined : local();
        if (own === undefined) continue;
        if (missedBy.length > 0) {
          this.#stats.readRepairs++;
          this.#o.repair(key, own, missedBy, false);
        }
        return respond(own);
      }
      let entry;
      try {
        entry = await this.#o.readFrom(peer, key);
      } catch (err) {
        this.#stats.failures++;
        failure = `; last error: ${(err as Error).message}`;
        continue;
      }
      missed = true;
      if (entry === undefined) {
        answered.push(peer);
        if (owners.peers.includes(peer)) missedBy.push(peer);
        continue;
      }
      this.#stats.reads++;
      if (owners.self || missedBy.length > 0) {
        this.#stats.readRepairs++;
        this.#o.repair(key, entry, missedBy, owners.self);
      }
      return respond(entry);
    }
    if (owners.moved) {
      for (const peer of answered) {
        try {
          const res = await this.#send(peer, req, undefined, ROUTED_FOR_HEADER);
          if (res.status >= 500) { // its owners out of reach: no better than this node's miss
            await res.body?.cancel();
            continue;
          }
          this.#stats.reads++;
          return relay(res, peer.name);
        } catch {
          this.#stats.failures++;
        }
      }
    }
    if (missed) return respond(undefined);
    throw new HttpError(
      503,
      `No owner of this key is reachable (owners tried: ${names(owners)})${failure}`,
    );
  }

  /**
   * A PUT (with its already validated `body`) or DELETE for a key this node does not own: sent
   * to the first reachable owner, whose answer is relayed.
   */
  async write(req: Request, owners: KeyOwners, body: Uint8Array | undefined): Promise<Response> {
    for (const peer of owners.peers) {
      try {
        const res = await this.#send(peer, req, body, FORWARDED_HEADER);
        this.#stats.writes++;
        return relay(res, peer.name);
      } catch (err) {
        this.#stats.failures++;
        if ((err as Error)?.name === "TimeoutError") {
          throw new HttpError(
            504,
            `Owner ${peer.name} did not answer within ${this.#o.timeoutMs} ms; the write may or may not be applied`,
          );
        }
      }
    }
    throw new HttpError(503, `No owner of this key is reachable (owners tried: ${names(owners)})`);
  }

  // Passes `req` to `peer`, marked with `marker` (forwarded, or routed for this node).
  #send(
    peer: PeerAddress,
    req: Request,
    body: Uint8Array | undefined,
    marker: string,
  ): Promise<Response> {
    const url = new URL(req.url);
    const headers: Record<string, string> = { [marker]: this.#o.self };
    for (const name of PASSED_REQUEST_HEADERS) {
      const value = req.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    return this.#o.fetchPeer(
      `http://${hostForUrl(peer.host)}:${peer.httpPort}${url.pathname}${url.search}`,
      {
        method: req.method,
        headers,
        ...(body ? { body: body as BodyInit } : {}),
        signal: AbortSignal.timeout(this.#o.timeoutMs),
      },
    );
  }
}

function hostForUrl(host: string): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}

function names(owners: KeyOwners): string {
  return owners.peers.map((p) => p.name).join(", ") || "none alive";
}

/** The owner's answer as this node's, with the headers that matter and who served it. */
function relay(res: Response, owner: string): Response {
  const headers = new Headers({ "x-served-by": owner });
  for (const name of PASSED_RESPONSE_HEADERS) {
    const value = res.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return new Response(res.body, { status: res.status, headers });
}
