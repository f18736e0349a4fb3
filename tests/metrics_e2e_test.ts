/**
 * `/metrics` on a real node: Prometheus text whose values follow the operations made, that
 * `promtool check metrics` (Debian `prometheus`) passes with zero problems, and that holds every
 * catalogue series with its type; and `/openapi.json` whose every path is served.
 */

import assert from "node:assert/strict";
import { METRIC_CATALOGUE, NOT_EXPORTED } from "../src/metrics/mod.ts";
import { needsBinary, NodeProcess, put, startCluster, statsOf, waitFor } from "../testing/mod.ts";
import denoJson from "../deno.json" with { type: "json" };

function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? NaN : Number(line.slice(series.length + 1));
}

Deno.test("metrics follow operations on a real node", async () => {
  await using node = await NodeProcess.start({ MAX_MEMORY: "1mb", MAX_VALUE_BYTES: "64kb" });
  const scrape = async () => {
    const res = await fetch(node.url("/metrics"));
    assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
    return await res.text();
  };
  const before = await scrape();
  assert.equal(value(before, "cache_store_hits_total"), 0);
  assert.equal(value(before, 'cache_membership_members{state="alive"}'), 1);
  for (let i = 0; i < 200; i++) {
    await fetch(node.url(`/cache/k${i}`), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value: "x".repeat(10_000) }),
    }).then((r) => r.text());
  }
  await fetch(node.url("/cache/k199")).then((r) => r.text());
  await fetch(node.url("/cache/absent")).then((r) => r.text());
  await fetch(node.url("/cache/k1"), { method: "POST" }).then((r) => r.text());
  const after = await scrape();
  assert.equal(value(after, "cache_store_hits_total"), 1);
  assert.equal(value(after, "cache_store_misses_total"), 1);
  assert.ok(value(after, "cache_store_evictions_total") > 0, "a 2 MB flood into 1 MiB evicts");
  assert.ok(value(after, "cache_store_bytes") <= value(after, "cache_store_max_bytes"));
  assert.equal(
    value(after, 'cache_http_requests_total{route="/cache/{key}",method="PUT",status="200"}'),
    200,
  );
  assert.equal(
    value(after, 'cache_http_requests_total{route="/cache/{key}",method="GET",status="404"}'),
    1,
  );
  assert.equal(
    value(after, 'cache_http_requests_total{route="/cache/{key}",method="POST",status="405"}'),
    1,
  );
  assert.match(
    after,
    /^cache_http_request_duration_seconds_count\{route="\/cache\/\{key\}",method="PUT"\} 200$/m,
  );
  assert.ok(value(after, "cache_membership_probes_total") >= 0);
  assert.equal(
    value(after, `cache_build_info{version="${denoJson.version}",deno="${Deno.version.deno}"}`),
    1,
  );
});

Deno.test("every path in /openapi.json is served", async () => {
  await using node = await NodeProcess.start();
  const doc = await (await fetch(node.url("/openapi.json"))).json();
  assert.equal(doc.openapi, "3.1.0");
  for (const [path, item] of Object.entries<Record<string, unknown>>(doc.paths)) {
    if (!item.get || path.startsWith("/internal/")) continue; // GETs for clients only
    const url = node.url(path.replace("{key}", "some-key"));
    const res = await fetch(url);
    await res.body?.cancel();
    assert.ok([200, 404].includes(res.status), `${path}: ${res.status}`);
    if (path !== "/cache/{key}") assert.equal(res.status, 200, path);
  }
});

const promtool = needsBinary("promtool", "prometheus");

/** The dotted paths of every number (or boolean) in `value`, map keys kept. */
function leafPaths(value: unknown, path = ""): string[] {
  if (typeof value === "number" || typeof value === "boolean") return [path];
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, path ? `${path}.${k}` : k));
}

Deno.test({
  name: `a live partitioned cluster's /metrics: promtool-clean, every catalogue series typed, ` +
    `every stats field exported${promtool.skip}`,
  ignore: promtool.path === undefined,
  async fn() {
    // A worker on the edge port in front of an origin, so the workers and edge sections exist.
    const nodes = await startCluster("prom", 2, {
      ORIGIN: "http://127.0.0.1:9",
      REPLICAS: "1",
      GOSSIP_PROFILE: "local",
      WORKER: "examples/hello/worker.ts",
      EDGE_PORT: "0",
      WORKER_POOL: "1",
    });
    try {
      const [a, b] = nodes;
      await waitFor("the peer in a's replication stats", async () => {
        const stats = await statsOf(a) as { replication?: { peers?: Record<string, unknown> } };
        return stats.replication?.peers?.["prom-1"] ? true : undefined;
      });
      for (let i = 0; i < 20; i++) assert.equal((await put(a, `k${i}`, "v")).status, 200);
      await fetch(b.url("/cache/k1")).then((r) => r.text());
      const text = await (await fetch(a.url("/metrics"))).text();
      const check = await new Deno.Command(promtool.path!, {
        args: ["check", "metrics"],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = check.stdin.getWriter();
      await writer.write(new TextEncoder().encode(text));
      await writer.close();
      const out = await check.output();
      const problems = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.equal(problems.trim(), "", `promtool check metrics:\n${problems}`);
      assert.equal(out.code, 0);
      // Every catalogue family is there with its type (each section exists in this cluster).
      for (const spec of METRIC_CATALOGUE) {
        assert.match(text, new RegExp(`^# TYPE ${spec.name} ${spec.type}$`, "m"), spec.name);
      }
      // Every number /stats shows is exported (or deliberately not).
      const patterns = METRIC_CATALOGUE.filter((s) => s.stat !== undefined).map((s) =>
        new RegExp(`^${s.stat!.replaceAll(".", "\\.").replace(/\{\w+\}/g, "[^.]+")}$`)
      );
      for (const path of leafPaths(await statsOf(a))) {
        assert.ok(
          Object.keys(NOT_EXPORTED).some((k) => path === k || path.startsWith(`${k}.`)) ||
            patterns.some((p) => p.test(path)),
          `/stats field ${path} is in no metric of the catalogue`,
        );
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});
