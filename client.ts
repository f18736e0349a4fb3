/**
 * The cachenode client: talks to a running cluster from Deno, Node 20+, browsers and
 * Workers-style runtimes with nothing but `fetch`. It sends each key's request straight to a
 * node that owns the key (no forwarding hop in partitioned mode), fails over when a node dies,
 * and retries what can safely be retried. This file imports no server code and no Deno API, so
 * it can be bundled alone (tests/client_node_test.ts runs it under Node).
 *
 * ```ts
 * import { CacheClient } from "./client.ts";
 * await using cache = new CacheClient({ nodes: ["http://127.0.0.1:8000"], timeoutMs: 2_000 });
 * await cache.set("user:1", "ann", { ttlMs: 60_000, tags: ["users"] });
 * await cache.get("user:1"); // "ann"
 * await cache.incr("hits"); // 1
 * ```
 *
 * @module
 */

export * from "./src/client/mod.ts";
