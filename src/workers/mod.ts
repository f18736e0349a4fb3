/**
 * Edge workers: the user's Workers-style module (`export default { fetch(request, env, ctx) }`,
 * a Hono app included) served in a pool of Deno workers whose permissions are narrower than the
 * node's (its own folder to read, the allowed hosts and the origin to fetch, nothing else), with
 * the cluster as its KV (`env.CACHE` and named bindings, each a `kv:<BINDING>:` namespace).
 * It talks to the node through the service contract only; the origin fetch is injected.
 *
 * @module
 */

export { WorkerRuntime, type WorkerRuntimeOptions } from "./runtime.ts";
export { type OriginFetch, WorkerPool, type WorkerPoolOptions } from "./pool.ts";
export {
  bindingPrefix,
  DEFAULT_BINDING,
  parseWranglerConfig,
  resolveWorkerSettings,
  type WorkerSettings,
} from "./settings.ts";
export { DURATION_BUCKETS_MS, WorkerStats, type WorkerStatsView } from "./stats.ts";
export { answerKv, type KvCall, type KvListResult } from "./kv_host.ts";
