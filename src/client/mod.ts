/**
 * The client area: {@link CacheClient} talks to a running cluster over HTTP with `fetch` only
 * (no Deno API, no server code), routing each key to its owners from `GET /cluster/topology` and
 * failing over between nodes. Its face for programs is `client.ts` at the repository root.
 *
 * @module
 */

export { CacheClient } from "./cache_client.ts";
export type {
  BatchOp,
  BatchResult,
  CacheClientOptions,
  CacheValue,
  CallOptions,
  ClientStats,
  DeleteOptions,
  EntryMetadata,
  EntryWithMeta,
  IncrOptions,
  ListedKey,
  ListOptions,
  MemberInfo,
  RetriedCall,
  RetryEvent,
  SetOptions,
} from "./types.ts";
export {
  AuthError,
  CacheClientError,
  NotACounterError,
  PreconditionFailedError,
  RequestError,
  TimeoutError,
  UnavailableError,
} from "./errors.ts";
export { type ClientMember, Topology } from "./topology.ts";
export { type WatchEvent } from "./watch.ts";
