/**
 * The client's option and result types: what a program passes to `CacheClient` and its
 * calls and what it gets back, apart from the class so that `cache_client.ts` stays readable.
 *
 * @module
 */

/** A stored value: text, or bytes (stored as `application/octet-stream`). */
export type CacheValue = string | Uint8Array;

/** JSON metadata of an entry (an object of at most 1 KiB as JSON). */
export type EntryMetadata = Record<string, unknown>;

/** Options of `CacheClient`. */
export interface CacheClientOptions {
  /** Base URLs of one or more nodes to start from, e.g. `["http://10.0.0.1:8000"]`. */
  nodes: string[];
  /** Bearer token (the nodes' `AUTH_TOKEN`). @default none */
  token?: string;
  /** Deadline of each call, retries included, ms. @default 5000 */
  timeoutMs?: number;
  /** Attempts after the first one (on the next node, with jittered backoff). @default 4 */
  retries?: number;
  /**
   * `"owners"`: learn the cluster and send each key's request to an owner; `"fixed"`: talk to
   * the given nodes only (one at a time, the next on failure), for nodes behind a proxy or
   * addresses the client cannot reach directly. @default "owners"
   */
  routing?: "owners" | "fixed";
  /** How old the cluster view may get while the client is in use, ms. @default 5000 */
  refreshMs?: number;
  /**
   * The `fetch` to use: for TLS with your own CA pass one that trusts it (in Deno:
   * `(url, init) => fetch(url, { ...init, client: Deno.createHttpClient({ caCerts }) })`; in
   * Node: an undici dispatcher). @default globalThis.fetch
   */
  fetch?: typeof fetch;
  /** Called before each retry (which node failed, why, and the wait). @default none */
  onRetry?: (event: RetryEvent) => void;
  /** Random numbers in [0, 1) for jitter and the first node (tests). @default Math.random */
  random?: () => number;
}

/** Options every call takes. */
export interface CallOptions {
  /** Cancels the call (it rejects with the signal's reason). @default none */
  signal?: AbortSignal;
  /** This call's deadline, ms. @default the client's `timeoutMs` */
  timeoutMs?: number;
}

/** Options of `CacheClient.set`. */
export interface SetOptions extends CallOptions {
  /** Time to live, ms (0 = no expiry). @default the node's `DEFAULT_TTL` */
  ttlMs?: number;
  /** JSON metadata stored with the entry. @default none */
  metadata?: EntryMetadata;
  /** Tags (what `CacheClient.purge` by tag matches). @default none */
  tags?: string[];
  /** Store only if the current version is this ETag (`"*"`: if the key exists). @default none */
  ifMatch?: string;
  /** `"*"`: store only if the key does not exist. @default none */
  ifNoneMatch?: "*";
  /** Wait for this many copies (`"all"`: every live owner) before resolving. @default none */
  acks?: number | "all";
}

/** Options of `CacheClient.delete`. */
export interface DeleteOptions extends CallOptions {
  /** Delete only if the current version is this ETag (`"*"`: if it exists). @default none */
  ifMatch?: string;
  /** Wait for this many copies (`"all"`: every live owner). @default none */
  acks?: number | "all";
}

/** Options of `CacheClient.incr`. */
export interface IncrOptions extends CallOptions {
  /** Amount to add (a safe integer, may be negative). @default 1 */
  by?: number;
  /** Time to live when the counter is created, ms. @default the node's `DEFAULT_TTL` */
  ttlMs?: number;
}

/** An entry with what the node knows about it (`CacheClient.getWithMeta`). */
export interface EntryWithMeta {
  /** The value. */
  value: CacheValue;
  /** Its version, for `ifMatch`. */
  etag: string;
  /** Remaining time to live, ms (absent: no expiry). */
  ttlMs?: number;
  /** Metadata given with the write. */
  metadata?: EntryMetadata;
  /** Tags given with the write. */
  tags?: string[];
}

/** One operation of `CacheClient.batch`. */
export type BatchOp =
  | { op: "get"; key: string }
  | { op: "delete"; key: string }
  | {
    op: "put";
    key: string;
    value: CacheValue;
    ttlMs?: number;
    metadata?: EntryMetadata;
    tags?: string[];
  };

/** The outcome of one batch operation: the status its single request would get. */
export interface BatchResult {
  /** HTTP status (200, 404 for a missing key, 400...). */
  status: number;
  /** The value of a `get` hit. */
  value?: CacheValue;
  /** Why the operation failed. */
  error?: string;
}

/** One key of a `CacheClient.list` page. */
export interface ListedKey {
  /** The key. */
  name: string;
  /** When it expires, epoch ms (absent: never). */
  expiresAt?: number;
  /** Its metadata. */
  metadata?: EntryMetadata;
}

/** Options of `CacheClient.list`. */
export interface ListOptions extends CallOptions {
  /** Only keys starting with this. @default all keys */
  prefix?: string;
  /** Keys per page, 1..1000. @default 100 */
  limit?: number;
  /** Start after this cursor (a page's `cursor`). @default the first key */
  cursor?: string;
}

/** A member as `/cluster/members` shows it. */
export interface MemberInfo {
  /** Member name. */
  name: string;
  /** Gossip address. */
  addr: string;
  /** Gossip port. */
  port: number;
  /** HTTP API port. */
  http_port: number;
  /** `alive`, `suspect`, `dead` or `left`. */
  state: string;
  /** Incarnation number. */
  incarnation: number;
  /** The member's metadata. */
  meta: unknown;
}

/** One attempt that failed and was retried. */
export interface RetryEvent {
  /** The client operation (`get`, `set`, `incr`...). */
  op: string;
  /** The key, when the call is about one. */
  key?: string;
  /** Attempt number that failed (1 = the first). */
  attempt: number;
  /** URL of the node that failed. */
  node: string;
  /** Why (connection error, 503, attempt timeout). */
  reason: string;
  /** Wait before the next attempt, ms. */
  delayMs: number;
}

/** A call that needed more than one attempt, as `ClientStats.retried` keeps it. */
export interface RetriedCall {
  /** The client operation. */
  op: string;
  /** The key, when the call is about one. */
  key?: string;
  /** Attempts made. */
  attempts: number;
  /** The failed attempts: node URL and reason. */
  failures: { node: string; reason: string }[];
  /** Whether the call succeeded in the end. */
  ok: boolean;
}

/** Counters of a client (see `CacheClient.stats()`). */
export interface ClientStats {
  /** Calls made. */
  calls: number;
  /** Attempts sent again after a failure. */
  retries: number;
  /** Calls that failed after their retries (or could not be retried). */
  failed: number;
  /** Views fetched from `/cluster/topology`. */
  refreshes: number;
  /** Answers whose `X-Served-By` named another node than the one asked (a stale view). */
  servedElsewhere: number;
  /** The last 1,000 calls that needed a retry, oldest first. */
  retried: RetriedCall[];
}
