/**
 * The service contract: the types the API edge (`http/`), the dashboard, the client, workers and
 * embedders share about a cache node. It sits below all of them and above replication, so none
 * of them imports another (or the node) for a type; `CacheNode` implements it.
 *
 * @module
 */

export type {
  CacheEntryView,
  CacheService,
  ChangeEvent,
  ClusterTopology,
  EntryMetadata,
  EntryVersion,
  ForwardStats,
  IncrOptions,
  KeyOwners,
  KeyRouting,
  ListedKey,
  ListOptions,
  ListPage,
  MemberView,
  PeerAddress,
  PurgeRequest,
  ReplicationEndpoints,
  SetOptions,
  WriteOptions,
} from "./contract.ts";
export {
  InvalidInputError,
  NotACounterError,
  NotEnoughReplicasError,
  PreconditionFailedError,
} from "./errors.ts";
export { etagOf, parseEtag } from "./etag.ts";
export { FORWARDED_HEADER } from "./contract.ts";
export {
  checkEntry,
  checkKey,
  checkMetadata,
  checkTags,
  MAX_LIST_LIMIT,
  MAX_METADATA_BYTES,
  MAX_TAG_BYTES,
  MAX_TAGS,
} from "./limits.ts";
