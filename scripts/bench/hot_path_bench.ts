/**
 * In-process micro-benchmark of the HTTP hot path: `createHandler` of a test node (metrics,
 * in-flight cap and the 30 s body deadline on, as `deno task run` has them) answering a plain
 * GET hit and a JSON PUT, next to a bare handler doing the least the same answer needs. It
 * isolates the handler's own JavaScript cost from the socket work that `deno task bench http`
 * measures. Usage: `deno bench --allow-all scripts/bench/hot_path_bench.ts`.
 *
 * @module
 */

import { createHandler, InFlightLimit } from "../../src/http/mod.ts";
import { NodeMetrics } from "../../src/metrics/mod.ts";
import { startTestNode } from "../../testing/mod.ts";

const t = await startTestNode();
const VALUE = "v".repeat(100);
await t.node.set("k42", VALUE);
const handler = createHandler(t.node, {
  metrics: new NodeMetrics(() => ({})),
  inFlight: new InFlightLimit(512),
  bodyTimeoutMs: 30_000,
});
const body = JSON.stringify({ value: VALUE, ttl: 60 });
const headers = { "content-type": "application/json" };
const bare = async (req: Request) => {
  if (req.method === "PUT") {
    await req.arrayBuffer();
    return new Response("OK", { headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  return new Response(VALUE, { headers: { "content-type": "text/plain; charset=utf-8" } });
};
let n = 0;

Deno.bench("bare GET", { group: "get", baseline: true }, async () => {
  await (await bare(new Request("http://127.0.0.1:8080/cache/k42"))).arrayBuffer();
});
Deno.bench("node GET hit", { group: "get" }, async () => {
  await (await handler(new Request("http://127.0.0.1:8080/cache/k42"))).arrayBuffer();
});
Deno.bench("bare PUT", { group: "put", baseline: true }, async () => {
  const req = new Request(`http://127.0.0.1:8080/cache/k${n++ % 10_000}`, {
    method: "PUT",
    headers,
    body,
  });
  await (await bare(req)).arrayBuffer();
});
Deno.bench("node PUT (JSON)", { group: "put" }, async () => {
  const req = new Request(`http://127.0.0.1:8080/cache/k${n++ % 10_000}`, {
    method: "PUT",
    headers,
    body,
  });
  await (await handler(req)).arrayBuffer();
});
