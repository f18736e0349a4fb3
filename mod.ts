/**
 * A distributed in-memory TTL cache for Deno, embeddable in-process (as Olric and groupcache
 * allow) or run as a server with `deno task run`.
 *
 * ```ts
 * import { CacheNode } from "./mod.ts";
 * await using node = new CacheNode({ httpPort: 0, maxMemoryBytes: 64 * 1024 * 1024 });
 * await node.start({ http: false, cluster: false });
 * await node.set("greeting", "hello", { ttlMs: 5_000 });
 * node.get("greeting")?.value; // "hello"
 * ```
 *
 * @module
 */

export { CacheNode, type CacheNodeDeps, type NodeStats } from "./src/node/cache_node.ts";
export {
  CONFIG_ENV_VARS,
  ConfigError,
  DEFAULT_CONFIG,
  type LogFormat,
  type LogLevel,
  type NodeConfig,
  nodeConfig,
  type ReplicationChannel,
  usage,
} from "./src/config/mod.ts";
/** Reads the config from env vars and flags; see {@link loadNodeConfig}. */
export { loadNodeConfig as loadConfig } from "./src/node/resolve.ts";
export {
  type AckRequirement,
  type ReplicationStats,
  WriteAcksError,
} from "./src/replication/mod.ts";
export type {
  CacheEntryView,
  CacheService,
  MemberView,
  SetOptions,
  WriteOptions,
} from "./src/service/mod.ts";
export { createLogger, type Logger, silentLogger } from "./src/util/log.ts";
export {
  type OriginFetch,
  resolveWorkerSettings,
  WorkerRuntime,
  type WorkerRuntimeOptions,
  type WorkerSettings,
  type WorkerStatsView,
} from "./src/workers/mod.ts";
/**
 * The client of a running cluster; its option and result types (`SetOptions` there is the
 * client's, not the contract's) come from `client.ts`, importable alone.
 */
export {
  AuthError,
  CacheClient,
  CacheClientError,
  type CacheClientOptions,
  NotACounterError,
  PreconditionFailedError,
  RequestError,
  TimeoutError,
  UnavailableError,
} from "./client.ts";
/** The edge cache (a node's `edge` when `ORIGIN` and `EDGE_PORT` are set; or over any service). */
export { EdgeCache, type EdgeOptions, type EdgeStats } from "./src/edge/mod.ts";
