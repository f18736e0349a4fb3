/**
 * The edge cache (issue 20): every node a caching reverse proxy in front of `ORIGIN` on
 * `EDGE_PORT`, with one origin fetch per miss cluster-wide (on the key's primary owner) and the
 * responses kept as entries of the store (replicated, purged by tag or URL). The node starts the
 * listener; the API's `POST /internal/edge` calls {@link EdgeCache.answerPeer}; `POST /purge`
 * maps URLs to tags with {@link urlTagOf}.
 *
 * @module
 */

export { EDGE_ANSWER_HEADER, EdgeCache, type EdgeOptions, type EdgeStats } from "./edge_cache.ts";
export { EDGE_KEY_PREFIX, urlTagOf } from "./record.ts";
