/**
 * The KV operations beyond get/set/delete, decided where the contract says (issue 17):
 *
 * - **Conditional writes and counters** need one place of decision, since replication is last
 *   writer wins: the key's primary owner (`Replicator.primaryOf`). A node that is not the primary
 *   passes the operation to it over the primary's own API (with `X-Cache-Forwarded`, so it is
 *   decided there and never passed on again); the primary checks and applies it synchronously
 *   (one at a time) and replicates the result like any write. By default these writes wait for
 *   every live replica (`X-Write-Acks: all`), so an acknowledged increment survives the loss of
 *   the primary. While views of the membership differ (a gossip round), two nodes may both act as
 *   primary for a key: README ("Counters and conditional writes") says what that costs.
 * - **Listing** is local in full replication (every node holds every key) and merges the live
 *   peers' lists in partitioned mode; the cursor is the last key returned, so a page never repeats
 *   a key and keys present throughout are listed once.
 * - **Purge and flush** delete with replicated tombstones; in partitioned mode every live peer
 *   deletes what it holds too. The count is of live entries deleted here (and, partitioned, by
 *   the peers: a key is counted once per copy).
 * - **Validation**: the embedded API enforces the limits of the HTTP API.
 *
 * @module
 */

import {
  type AckRequirement,
  type ListAnswer,
  type PeerAddress,
  type Replicator,
  SyncNotReadyError,
  WriteAcksError,
} from "../replication/mod.ts";
import {
  type ChangeEvent,
  checkKey,
  type EntryMetadata,
  etagOf,
  FORWARDED_HEADER,
  type IncrOptions,
  InvalidInputError,
  type ListOptions,
  type ListPage,
  MAX_LIST_LIMIT,
  NotACounterError,
  NotEnoughReplicasError,
  PreconditionFailedError,
  type PurgeRequest,
  type SetOptions,
  type WriteOptions,
} from "../service/mod.ts";
import type { StoreRecord, TtlStore } from "../store/mod.ts";

const utf8 = new TextEncoder();

/** What the KV operations need from their node. */
export interface KvNode {
  /** This node's name. */
  readonly name: string;
  /** Size limits of keys and values. */
  readonly limits: { maxKeyBytes: number; maxValueBytes: number };
  /** The node's default TTL, ms (0: none). */
  readonly defaultTtlMs: number;
  /** The store. */
  readonly store: TtlStore;
  /** Current time, epoch ms. */
  now(): number;
  /** The replicator, while in a cluster. */
  replicator(): Replicator | undefined;
  /** Applies a record here with a fresh version and replicates it (see `CacheNode`). */
  write(key: string, data: Omit<StoreRecord, "version">, options: WriteOptions): Promise<void>;
  /** A request to a peer's API (token, TLS). */
  fetchPeer(url: string, init: RequestInit): Promise<Response>;
}

/** The listing cursor after `key` (opaque to clients). */
export function cursorAfter(key: string): string {
  let binary = "";
  for (const byte of utf8.encode(key)) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The key a cursor names; an `InvalidInputError` when it is not one of ours. */
export function keyOfCursor(cursor: string): string {
  try {
    const binary = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InvalidInputError(400, `Invalid cursor ${JSON.stringify(cursor.slice(0, 64))}`);
  }
}

/** The KV operations of one node; see the module doc. */
export class KvOperations {
  readonly #node: KvNode;
  readonly #watches = new Set<{ stop: () => void; onEnd: (() => void) | undefined }>();

  /** Operations over `node`. */
  constructor(node: KvNode) {
    this.#node = node;
  }

  /**
   * Throws `NotEnoughReplicasError` when `acks` asks for more replicas than could ever answer:
   * this node and its live peers (in partitioned mode: the key's live owners).
   */
  checkAcks(key: string, options: WriteOptions): void {
    const acks = options.acks;
    if (typeof acks !== "number" || options.local) return;
    const replicator = this.#node.replicator();
    let live = 1;
    if (replicator) {
      const owners = options.owners ?? replicator.ownersOf(key, false);
      live = owners.peers.length + (owners.self ? 1 : 0);
    }
    if (acks > live) throw new NotEnoughReplicasError(acks, live);
  }

  /**
   * A write with `ifMatch` or `ifAbsent` (a set of `value`, or a delete without one): checked
   * and applied on the key's primary owner (here, or passed to it).
   */
  async conditional(
    key: string,
    options: SetOptions,
    apply: () => Promise<void>,
    value?: string | Uint8Array,
  ): Promise<void> {
    const primary = this.#primary(key, options);
    if (primary === undefined) {
      this.#check(key, options);
      return await apply();
    }
    await this.#forwardWrite(primary, key, value === undefined ? "DELETE" : "PUT", options, value);
  }

  /** Adds to the counter at `key` on its primary owner; resolves with the new value. */
  async incr(key: string, options: IncrOptions): Promise<number> {
    const node = this.#node;
    checkKey(key, node.limits.maxKeyBytes);
    const by = options.by ?? 1;
    if (!Number.isSafeInteger(by)) {
      throw new InvalidInputError(400, `Invalid increment: must be an integer: got ${by}`);
    }
    if (options.ttlMs !== undefined && (!Number.isFinite(options.ttlMs) || options.ttlMs < 0)) {
      throw new InvalidInputError(400, `Invalid TTL: must be a number of ms >= 0`);
    }
    const primary = this.#primary(key, options);
    if (primary !== undefined) return await this.#forwardIncr(primary, key, by, options);
    const current = node.store.get(key);
    let value = by;
    let expiresAt: number;
    const extras: Pick<StoreRecord, "metadata" | "tags"> = {};
    if (current === undefined) {
      const ttlMs = options.ttlMs ?? node.defaultTtlMs;
      expiresAt = ttlMs > 0 ? node.now() + ttlMs : 0;
    } else {
      const text = typeof current.value === "string" ? current.value : undefined;
      if (text === undefined || !/^-?(0|[1-9][0-9]*)$/.test(text)) {
        throw new NotACounterError(`Cannot increment ${JSON.stringify(key)}: not an integer`);
      }
      value = Number(text) + by;
      if (!Number.isSafeInteger(value) || !Number.isSafeInteger(Number(text))) {
        throw new NotACounterError(
          `Cannot increment ${JSON.stringify(key)}: the result leaves the safe integer range`,
        );
      }
      expiresAt = current.expiresAt;
      if (current.metadata !== undefined) extras.metadata = current.metadata;
      if (current.tags !== undefined) extras.tags = current.tags;
    }
    const acks: AckRequirement = options.acks ?? "all";
    await node.write(key, { value: String(value), expiresAt, ...extras }, { acks });
    return value;
  }

  /** A page of the cluster's keys; see `CacheService.list`. */
  async list(options: ListOptions): Promise<ListPage> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new InvalidInputError(400, `Invalid limit: must be 1..${MAX_LIST_LIMIT}: got ${limit}`);
    }
    const prefix = options.prefix ?? "";
    const after = options.cursor === undefined ? undefined : keyOfCursor(options.cursor);
    // One more than asked: whether another page follows.
    const query = { prefix, after, limit: limit + 1 };
    const found = new Map<string, { expiresAt: number; metadata?: EntryMetadata }>();
    for (const r of this.#node.store.list(query)) found.set(r.key, r);
    const replicator = this.#node.replicator();
    let peersHaveMore = false;
    if (replicator && replicator.distribution.replicas > 0) {
      const pages = await Promise.all(
        replicator.livePeers().map((peer) => replicator.listFrom(peer, { prefix, after, limit })),
      );
      for (const page of pages) {
        peersHaveMore ||= page.more;
        for (const r of page.keys) if (!found.has(r.key)) found.set(r.key, r);
      }
    }
    const names = [...found.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0);
    const keys = names.slice(0, limit).map((name) => {
      const r = found.get(name)!;
      return {
        name,
        ...(r.expiresAt > 0 ? { expiresAt: r.expiresAt } : {}),
        ...(r.metadata !== undefined ? { metadata: r.metadata } : {}),
      };
    });
    const complete = names.length <= limit && !peersHaveMore;
    return complete
      ? { keys, complete }
      : { keys, complete, cursor: cursorAfter(names[limit - 1]) };
  }

  /** Deletes the named or tagged entries here and, in partitioned mode, on every live peer. */
  async purge(request: PurgeRequest, all = false): Promise<number> {
    let purged = await this.purgeHere(request, all);
    const replicator = this.#node.replicator();
    if (replicator && replicator.distribution.replicas > 0) {
      const counts = await Promise.all(
        replicator.livePeers().map((peer) =>
          replicator.purgeOn(peer, {
            tags: [...request.tags ?? []],
            keys: [...request.keys ?? []],
            all,
          })
        ),
      );
      for (const n of counts) purged += n;
    }
    return purged;
  }

  /** A peer's `list` of this node's keys (`POST /internal/list`). */
  listHere(prefix: string, after: string | undefined, limit: number): ListAnswer {
    const keys = this.#node.store.list({ prefix, after, limit: limit + 1 });
    return { keys: keys.slice(0, limit), more: keys.length > limit };
  }

  /** Deletes what this node holds of a purge (replicated tombstones); resolves with the count. */
  async purgeHere(request: PurgeRequest, all: boolean): Promise<number> {
    const store = this.#node.store;
    const keys = new Set<string>(request.keys ?? []);
    for (const key of store.keysWithTags(request.tags ?? [])) keys.add(key);
    if (all) { for (const r of store.list({ limit: Infinity })) keys.add(r.key); }
    let purged = 0;
    const writes: Promise<void>[] = [];
    for (const key of keys) {
      if (store.get(key) === undefined) continue;
      purged++;
      writes.push(this.#node.write(key, { value: null, expiresAt: 0 }, {}));
    }
    await Promise.all(writes);
    return purged;
  }

  /** Changes applied here from now on to keys under `prefix`; see `CacheService.watch`. */
  watch(
    prefix: string,
    listener: (event: ChangeEvent) => void,
    onEnd?: () => void,
  ): () => void {
    const unsubscribe = this.#node.store.onChange((change) => {
      if (change.local || !change.key.startsWith(prefix)) return;
      listener({ kind: change.kind, key: change.key, version: change.version });
    });
    const watch = { stop: unsubscribe, onEnd };
    this.#watches.add(watch);
    return () => {
      this.#watches.delete(watch);
      unsubscribe();
    };
  }

  /**
   * Ends every watch (the node is closing): each is unsubscribed and its `onEnd` called, so
   * open `/watch` streams end instead of holding the server's shutdown open.
   */
  endWatches(): void {
    const watches = [...this.#watches];
    this.#watches.clear();
    for (const watch of watches) {
      watch.stop();
      watch.onEnd?.();
    }
  }

  // Where a conditional operation is decided: undefined = here. A node still copying its data
  // set (just restarted) must not decide from a store that lacks the key's latest value.
  #primary(key: string, options: { forwarded?: boolean }): PeerAddress | undefined {
    const replicator = this.#node.replicator();
    const primary = options.forwarded ? undefined : replicator?.primaryOf(key);
    if (primary === undefined && replicator && !replicator.readiness().ready) {
      throw new SyncNotReadyError(
        `Node ${this.#node.name} is still copying its data set: cannot decide on ${
          JSON.stringify(key)
        } yet`,
      );
    }
    return primary;
  }

  #check(key: string, options: WriteOptions): void {
    const current = this.#node.store.get(key);
    if (options.ifAbsent && current !== undefined) {
      throw new PreconditionFailedError(`Key ${JSON.stringify(key)} exists (If-None-Match: *)`);
    }
    const want = options.ifMatch;
    if (want === undefined) return;
    if (current === undefined) {
      throw new PreconditionFailedError(`Key ${JSON.stringify(key)} does not exist (If-Match)`);
    }
    if (current.version.hlc !== want.hlc || current.version.node !== want.node) {
      throw new PreconditionFailedError(
        `Key ${JSON.stringify(key)} is at version ${etagOf(current.version)}, not ${
          etagOf(want)
        } (If-Match)`,
      );
    }
  }

  async #forwardWrite(
    primary: PeerAddress,
    key: string,
    method: "PUT" | "DELETE",
    options: SetOptions,
    value?: string | Uint8Array,
  ): Promise<void> {
    const headers: Record<string, string> = {};
    if (options.ifMatch) headers["if-match"] = etagOf(options.ifMatch);
    if (options.ifAbsent) headers["if-none-match"] = "*";
    let body: BodyInit | undefined;
    if (value !== undefined) {
      if (typeof value === "string") {
        headers["content-type"] = "application/json";
        body = JSON.stringify({
          value,
          ...(options.ttlMs !== undefined ? { ttl: options.ttlMs / 1000 } : {}),
          ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
          ...(options.tags !== undefined ? { tags: options.tags } : {}),
        });
      } else {
        if (options.metadata !== undefined) {
          throw new InvalidInputError(400, "Cannot pass metadata with a byte value to the primary");
        }
        headers["content-type"] = "application/octet-stream";
        if (options.tags?.length) headers["cache-tag"] = options.tags.join(",");
        body = value as BodyInit;
      }
    }
    const query = value !== undefined && typeof value !== "string" && options.ttlMs !== undefined
      ? `?ttl=${options.ttlMs / 1000}`
      : "";
    const res = await this.#send(primary, `/cache/${encodeURIComponent(key)}${query}`, {
      method,
      headers: this.#withAcks(headers, options.acks ?? "all"),
      ...(body !== undefined ? { body } : {}),
    });
    await this.#expectOk(res, primary);
  }

  async #forwardIncr(
    primary: PeerAddress,
    key: string,
    by: number,
    options: IncrOptions,
  ): Promise<number> {
    const res = await this.#send(primary, `/cache/${encodeURIComponent(key)}/incr`, {
      method: "POST",
      headers: this.#withAcks({ "content-type": "application/json" }, options.acks ?? "all"),
      body: JSON.stringify({
        by,
        ...(options.ttlMs !== undefined ? { ttl: options.ttlMs / 1000 } : {}),
      }),
    });
    const answer = await this.#expectOk(res, primary);
    return (answer as { value: number }).value;
  }

  #withAcks(headers: Record<string, string>, acks: AckRequirement): Record<string, string> {
    return { ...headers, "x-write-acks": String(acks), [FORWARDED_HEADER]: this.#node.name };
  }

  #send(peer: PeerAddress, path: string, init: RequestInit): Promise<Response> {
    const host = peer.host.includes(":") && !peer.host.startsWith("[")
      ? `[${peer.host}]`
      : peer.host;
    return this.#node.fetchPeer(`http://${host}:${peer.httpPort}${path}`, init);
  }

  // The primary's answer as this node's outcome: its JSON on 200, its failure's class otherwise.
  async #expectOk(res: Response, primary: PeerAddress): Promise<unknown> {
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text);
    } catch {
      // "OK" of a PUT, or a plain-text error
    }
    if (res.ok) return body;
    const message = typeof body.error === "string" ? body.error : text;
    switch (res.status) {
      case 412:
        throw new PreconditionFailedError(message);
      case 409:
        throw new NotACounterError(message);
      case 503:
        throw new SyncNotReadyError(message);
      case 504:
        throw new WriteAcksError(
          message,
          Number(body.acks ?? 0),
          Number(body.required ?? 0),
        );
      case 400:
      case 413:
      case 414:
        throw new InvalidInputError(res.status, message);
      default:
        throw new Error(`Primary owner ${primary.name} answered ${res.status}: ${message}`);
    }
  }
}
