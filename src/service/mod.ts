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
  ForwardStats,
  KeyOwners,
  KeyRouting,
  MemberView,
  PeerAddress,
  ReplicationEndpoints,
  SetOptions,
  WriteOptions,
} from "./contract.ts";
