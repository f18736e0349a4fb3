/**
 * The contract's types (see `mod.ts`): a cache node as the API edge, the dashboard and embedders
 * see it, with nothing of HTTP in them. `CacheNode` implements {@link CacheService}.
 *
 * @module
 */

import type { AckRequirement, KeyOwners, PeerAddress } from "../replication/mod.ts";

export type { KeyOwners, PeerAddress };

/** Version of a write: hybrid logical clock + the writer's node name (its ETag, see `etag.ts`). */
export interface EntryVersion {
  /** Hybrid logical clock of the write. */
  hlc: number;
  /** Name of the node that made the write. */
  node: string;
}

/** Free-form JSON metadata of an entry (as Workers KV's), at most 1 KiB serialized. */
export type EntryMetadata = Record<string, unknown>;

/** A stored value as a reader of the cache sees it. */
export interface CacheEntryView {
  /** Text (served as `text/plain; charset=utf-8`) or bytes (`application/octet-stream`). */
  value: string | Uint8Array;
  /** Absolute expiry in epoch ms; 0 = never. */
  expiresAt: number;
  /** Version of the write. */
  version: EntryVersion;
  /** Metadata given with the write. @default none */
  metadata?: EntryMetadata;
  /** Tags given with the write (what `purge` by tag matches). @default none */
  tags?: readonly string[];
}

/** One member of the cluster, as `/cluster/members` and the dashboard show it. */
export interface MemberView {
  /** Unique member name. */
  name: string;
  /** Gossip IP address. */
  addr: string;
  /** Gossip port. */
  port: number;
  /** HTTP API port, from the member's metadata (0 if unknown). */
  httpPort: number;
  /** Membership state. */
  state: "alive" | "suspect" | "dead" | "left";
  /** The member's incarnation number. */
  incarnation: number;
  /** The member's metadata, parsed as JSON when it is JSON. */
  meta: unknown;
}

/**
 * Header of a request one node passes to another to be decided there (value: the sending node's
 * name); the receiver serves it itself and never passes it on (`WriteOptions.forwarded`).
 */
export const FORWARDED_HEADER = "x-cache-forwarded";

/** Options of a delete (and of every write). */
export interface WriteOptions {
  /** Apply on this node only, do not replicate (`X-Is-Sync: true`). @default false */
  local?: boolean;
  /**
   * Wait until this many replicas (this node included) or all live ones hold the write
   * (`X-Write-Acks`); rejects with a `WriteAcksError` after the node's timeout.
   * @default undefined (return once applied locally and queued for the peers)
   */
  acks?: AckRequirement;
  /**
   * Partitioned mode: the key's owners when the caller already looked them up for this request
   * (so they are computed once per request). @default looked up by the node
   */
  owners?: KeyOwners;
  /**
   * Apply only if the key's current version is this one (`If-Match`); else the write fails with
   * a `PreconditionFailedError`. Decided by the key's primary owner. @default unconditional
   */
  ifMatch?: EntryVersion;
  /**
   * Apply only if the key holds no live entry (`If-None-Match: *`, create-only); else a
   * `PreconditionFailedError`. Decided by the key's primary owner. @default false
   */
  ifAbsent?: boolean;
  /**
   * The request was passed on by another node (`X-Cache-Forwarded`): decide here, never pass it
   * on again (so a request cannot loop while views of the membership differ). @default false
   */
  forwarded?: boolean;
}

/** Options of a set. */
export interface SetOptions extends WriteOptions {
  /** TTL in ms; 0 = no expiry. @default the node's default TTL */
  ttlMs?: number;
  /** Metadata kept with the entry (≤ 1 KiB as JSON). @default none */
  metadata?: EntryMetadata;
  /** Tags of the entry, for purge by tag (each 1..128 bytes, at most 32). @default none */
  tags?: readonly string[];
}

/** Options of an increment. */
export interface IncrOptions extends Pick<WriteOptions, "acks" | "forwarded"> {
  /** Amount added (a safe integer, may be negative). @default 1 */
  by?: number;
  /** TTL in ms applied when the counter is created; an existing counter keeps its expiry. */
  ttlMs?: number;
}

/** Options of a listing. */
export interface ListOptions {
  /** Only keys starting with this. @default "" (every key) */
  prefix?: string;
  /** Most keys in the page, 1..1000. @default 100 */
  limit?: number;
  /** Where the previous page ended (its `cursor`). @default the first page */
  cursor?: string;
}

/** One key of a listing. */
export interface ListedKey {
  /** The key. */
  name: string;
  /** Absolute expiry in epoch ms, when the entry expires. */
  expiresAt?: number;
  /** The entry's metadata, when it has some. */
  metadata?: EntryMetadata;
}

/** A page of a listing, in key order. */
export interface ListPage {
  /** The keys of this page. */
  keys: ListedKey[];
  /** Whether no key follows this page. */
  complete: boolean;
  /** What to pass as `cursor` for the next page (absent when `complete`). */
  cursor?: string;
}

/** What a purge deletes, cluster-wide. */
export interface PurgeRequest {
  /** Every entry carrying any of these tags. */
  tags?: readonly string[];
  /** These keys. */
  keys?: readonly string[];
}

/** A change applied on a node: a write, a delete, or an entry found expired. */
export interface ChangeEvent {
  /** What happened. */
  kind: "put" | "delete" | "expire";
  /** The key. */
  key: string;
  /** The version of the write or delete (of the expired entry for `expire`). */
  version: EntryVersion;
}

/**
 * The node-to-node routes (`POST /internal/replicate`, `/internal/sync`, `/internal/read`,
 * `/internal/list`, `/internal/purge`).
 */
export interface ReplicationEndpoints {
  /** Largest body accepted, bytes. */
  readonly maxMessageBytes: number;
  /** Applies a batch of records; throws a `TypeError` for a malformed body. */
  receiveBatch(body: Uint8Array): Uint8Array;
  /** Answers a digest exchange; throws `TypeError` (malformed) or `SyncNotReadyError`. */
  answerSync(body: Uint8Array): Uint8Array;
  /** Answers a read of one key from this node's store; throws `TypeError` if malformed. */
  read(body: Uint8Array): Uint8Array;
  /**
   * Answers a page of this node's live keys (a cluster-wide listing); throws `TypeError`
   * (malformed) or `NotServedError`.
   */
  list(body: Uint8Array): Uint8Array;
  /**
   * Deletes the entries a peer's purge names on this node and answers how many were live;
   * rejects with `TypeError` (malformed) or `NotServedError`.
   */
  purge(body: Uint8Array): Promise<Uint8Array>;
}

/** Counters of requests passed to a key's owners (partitioned mode). */
export interface ForwardStats {
  /** Reads answered by another owner. */
  reads: number;
  /** Reads that found the key after owners missed it, and gave it to them (read repair). */
  readRepairs: number;
  /** Writes passed to an owner. */
  writes: number;
  /** Forwarded requests that failed (owner unreachable or too slow). */
  failures: number;
}

/**
 * Partitioned mode, as the API edge needs it: where a key lives and how to reach the nodes
 * that hold it. Absent in full replication, where every key is served by every node.
 */
export interface KeyRouting {
  /** This node's name. */
  readonly self: string;
  /** Deadline of one request passed to an owner, ms. */
  readonly timeoutMs: number;
  /** Counters the API edge updates as it passes requests on (shown in `/stats`). */
  readonly stats: ForwardStats;
  /** The owners of `key` (with its recent former owners). */
  ownersOf(key: string): KeyOwners;
  /** Sends a request to a peer's API (bearer token, TLS, pooled connections). */
  fetchPeer(url: string, init: RequestInit): Promise<Response>;
  /** Reads `key` from `peer`'s store (`undefined` on a miss); rejects when unreachable. */
  readFrom(peer: PeerAddress, key: string): Promise<CacheEntryView | undefined>;
  /**
   * Read repair: `entry` was found after owners of its key missed it (`self`: this node, an
   * owner, missed too); gives it to them in the background.
   */
  repair(key: string, entry: CacheEntryView, peers: PeerAddress[], self: boolean): void;
}

/** What the API edge (and an embedder) needs from a cache node. */
export interface CacheService {
  /** Size limits enforced before anything is stored. */
  readonly limits: { maxKeyBytes: number; maxValueBytes: number };
  /** Current time in epoch ms (for remaining TTLs). */
  now(): number;
  /** The live entry for `key`, or `undefined` on a miss or after expiry. */
  get(key: string): CacheEntryView | undefined;
  /** Stores `value` under `key`. */
  set(key: string, value: string | Uint8Array, options?: SetOptions): Promise<void>;
  /** Deletes `key` (idempotent). */
  delete(key: string, options?: WriteOptions): Promise<void>;
  /**
   * Adds `by` to the integer stored at `key` (a missing key counts as 0) on the key's primary
   * owner, and resolves with the new value; a `NotACounterError` when the value is not one.
   */
  incr(key: string, options?: IncrOptions): Promise<number>;
  /** A page of the cluster's keys in key order (partitioned mode: the owners' lists merged). */
  list(options?: ListOptions): Promise<ListPage>;
  /** Deletes the entries named or tagged, on every node; resolves with how many were live. */
  purge(request: PurgeRequest): Promise<number>;
  /** Deletes every entry on every node; resolves with how many were live. */
  flush(): Promise<number>;
  /**
   * Calls `listener` for every change applied on this node from now on to a key starting with
   * `prefix`; returns the function that stops it. `onEnd` is called once if the node ends the
   * watch itself (it is closing), so a stream built on it can end and its reader reconnect.
   */
  watch(
    prefix: string,
    listener: (event: ChangeEvent) => void,
    onEnd?: () => void,
  ): () => void;
  /** Every member this node knows, itself included. */
  members(): MemberView[];
  /** Counters and gauges of the node (store entries, bytes, hits, misses, evictions...). */
  stats(): Record<string, unknown>;
  /** Whether the node is ready to serve, and why not. */
  readiness(): { ready: boolean; reason?: string };
  /** The node-to-node routes, while replication runs. */
  readonly replication?: ReplicationEndpoints;
  /** Partitioned mode: where keys live. @default every key served here */
  readonly routing?: KeyRouting;
  /** Key placement (`GET /cluster/ring`); `key` adds that key's owners. */
  ring?(key?: string): unknown;
  /** What a client routes by (`GET /cluster/topology`). @default not offered */
  topology?(): ClusterTopology;
}

/**
 * The cluster as a client routes by it (`GET /cluster/topology`): the live members with their HTTP
 * addresses and the owners of every bucket, computed by the answering node from its view.
 */
export interface ClusterTopology {
  /** The answering node's name. */
  self: string;
  /** Copies per key; 0 = every node holds every key (full replication). */
  replicas: number;
  /** Buckets (a power of two): a key's bucket is `hashLane1(key) & (buckets - 1)`. */
  buckets: number;
  /** Live members, sorted by name, with their HTTP API addresses. */
  members: { name: string; host: string; httpPort: number }[];
  /** Owners per bucket: the copies in partitioned mode, 1 (the primary) otherwise. */
  perBucket: number;
  /** Entry `b * perBucket + i`: index in `members` of bucket `b`'s `i`-th owner, best first. */
  owners: Uint16Array;
}
