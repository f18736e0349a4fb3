/**
 * The client area: {@link CacheClient} talks to a running cluster over HTTP with `fetch` only
 * (no Deno API, no server code), routing each key to its owners from `GET /cluster/topology` and
 * failing over between nodes. Its face for programs is `client.ts` at the repository root.
 *
 * @module
 */

export {
  type BatchOp,
  type BatchResult,
  CacheClient,
  type CacheClientOptions,
  type CacheValue,
  type CallOptions,
  type DeleteOptions,
  type EntryMetadata,
  type EntryWithMeta,
  type IncrOptions,
  type ListedKey,
  type ListOptions,
  type MemberInfo,
  type SetOptions,
} from "./cache_client.ts";
export {
  AuthError,
  CacheClientError,
  NotACounterError,
  PreconditionFailedError,
  RequestError,
  TimeoutError,
  UnavailableError,
} from "./errors.ts";
export { type ClientStats, type RetriedCall, type RetryEvent } from "./transport.ts";
export { type ClientMember, Topology } from "./topology.ts";
export { type WatchEvent } from "./watch.ts";
