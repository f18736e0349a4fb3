import assert from "node:assert/strict";
import { METRIC_CATALOGUE } from "./catalogue.ts";
import { NodeMetrics, routeOf, statSamples } from "./metrics.ts";
import { EventLoopLagSampler } from "./runtime.ts";
import { VirtualClock } from "../util/clock.ts";
import denoJson from "../../deno.json" with { type: "json" };

const specOf = (name: string) => METRIC_CATALOGUE.find((s) => s.name === name)!;

Deno.test("statSamples walks maps into labels, scales ms to seconds, and skips absent sections", () => {
  const stats = {
    membership: { members: { alive: 4, dead: 1 } },
    replication: { peers: { b: { rttMs: { p50: 6.77 } } } },
  };
  assert.deepEqual(statSamples(specOf("cache_membership_members"), stats), [
    'cache_membership_members{state="alive"} 4',
    'cache_membership_members{state="dead"} 1',
  ]);
  assert.deepEqual(statSamples(specOf("cache_replication_peers_rtt_p50_seconds"), stats), [
    'cache_replication_peers_rtt_p50_seconds{peer="b"} 0.00677',
  ]);
  // An empty map still declares the family (no samples yet); an absent section does not.
  assert.deepEqual(
    statSamples(specOf("cache_membership_dropped_total"), { membership: { dropped: {} } }),
    [],
  );
  assert.equal(statSamples(specOf("cache_membership_dropped_total"), {}), undefined);
  assert.equal(statSamples(specOf("cache_store_hits_total"), { store: {} }), undefined);
});

Deno.test("NodeMetrics exposes stats and request metrics that change with operations", () => {
  let hits = 1;
  const metrics = new NodeMetrics(() => ({
    store: { hits, entries: 5, maxBytes: 100 },
    replication: { peers: { b: { queued: 2, rttMs: { p99: 16.2 } } } },
  }));
  metrics.observeRequest("/cache/{key}", "GET", 200, 0.0002);
  let text = metrics.text();
  assert.match(text, /^cache_store_hits_total 1$/m);
  assert.match(text, /^# TYPE cache_store_entries gauge$/m);
  assert.match(text, /^cache_store_entries 5$/m);
  assert.match(text, /^# TYPE cache_replication_peers_queue_depth gauge$/m);
  assert.match(text, /^cache_replication_peers_queue_depth\{peer="b"\} 2$/m);
  // A percentile is a snapshot: a gauge, in seconds (it was a counter "rtt_ms_p99_total").
  assert.match(text, /^# TYPE cache_replication_peers_rtt_p99_seconds gauge$/m);
  assert.match(text, /^cache_replication_peers_rtt_p99_seconds\{peer="b"\} 0.0162$/m);
  assert.doesNotMatch(text, /_ms/);
  assert.match(
    text,
    /^cache_http_requests_total\{route="\/cache\/\{key\}",method="GET",status="200"\} 1$/m,
  );
  assert.match(
    text,
    /^cache_http_request_duration_seconds_bucket\{le="0.00025",route="\/cache\/\{key\}",method="GET"\} 1$/m,
  );
  // Outside a cluster: no membership or replication-level families.
  assert.doesNotMatch(text, /cache_membership_/);
  hits = 7;
  metrics.observeRequest("/cache/{key}", "GET", 200, 0.0002);
  text = metrics.text();
  assert.match(text, /^cache_store_hits_total 7$/m);
  assert.match(text, /status="200"\} 2$/m);
});

Deno.test("NodeMetrics writes real HELP texts, and every sample under its family's TYPE", () => {
  const metrics = new NodeMetrics(() => ({
    replication: { peers: { a: { queued: 1, batches: 4 }, b: { queued: 2, batches: 5 } } },
  }), { build: { version: "1.2.3", deno: "9.9.9" } });
  metrics.observeRequest("/healthz", "GET", 200, 0.003);
  const text = metrics.text();
  assert.match(text, /^# TYPE cache_build_info gauge$/m);
  assert.match(text, /^cache_build_info\{version="1\.2\.3",deno="9\.9\.9"\} 1$/m);
  assert.match(
    text,
    /^# HELP cache_replication_peers_queue_depth Records waiting to be sent to the peer/m,
  );
  assert.match(
    text,
    /^cache_http_request_duration_seconds_sum\{route="\/healthz",method="GET"\} 0.003$/m,
  );
  assert.ok(text.endsWith("\n"));
  let family = "";
  const seen = new Set<string>();
  for (const line of text.split("\n").filter(Boolean)) {
    const type = line.match(/^# TYPE (\S+) /);
    if (type) {
      assert.ok(!seen.has(type[1]), `${type[1]} declared twice`);
      seen.add(family = type[1]);
    } else if (!line.startsWith("#")) {
      const name = line.split(/[{ ]/, 1)[0];
      assert.ok(name === family || name.startsWith(`${family}_`), `${name} outside ${family}`);
    }
  }
  assert.match(text, /^cache_replication_peers_batches_total\{peer="b"\} 5$/m);
});

Deno.test("NodeMetrics exports process and runtime figures", () => {
  const text = new NodeMetrics(() => ({})).text();
  const value = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, "m"))?.[1]);
  assert.ok(value("process_resident_memory_bytes") > 10_000_000, text);
  assert.ok(value("cache_runtime_heap_used_bytes") > 0);
  assert.ok(value("cache_runtime_heap_total_bytes") >= value("cache_runtime_heap_used_bytes"));
  assert.ok(value("cache_runtime_external_memory_bytes") >= 0);
  assert.ok(value("process_cpu_seconds_total") > 0);
  const start = value("process_start_time_seconds");
  assert.ok(start <= Date.now() / 1000 && start > Date.now() / 1000 - 3600, String(start));
  assert.equal(value("cache_runtime_event_loop_lag_seconds"), 0);
});

Deno.test("EventLoopLagSampler records how late its timer fires, max over the last windows", () => {
  const clock = new VirtualClock(0);
  const sampler = new EventLoopLagSampler({ clock, intervalMs: 500, windowMs: 10_000 });
  sampler.start();
  clock.advance(500);
  assert.equal(sampler.lastMs, 0);
  sampler.record(120, clock.now());
  assert.equal(sampler.lastMs, 120);
  assert.equal(sampler.maxMs, 120);
  clock.advance(10_000); // next window: the max is still remembered
  assert.equal(sampler.lastMs, 0);
  assert.equal(sampler.maxMs, 120);
  clock.advance(10_000); // two windows later: forgotten
  assert.equal(sampler.maxMs, 0);
  sampler.stop();
});

Deno.test("EventLoopLagSampler measures a blocked event loop", async () => {
  const sampler = new EventLoopLagSampler({ intervalMs: 20 });
  sampler.start();
  try {
    await new Promise((r) => setTimeout(r, 30));
    const until = Date.now() + 150;
    while (Date.now() < until) { /* block the loop */ }
    await new Promise((r) => setTimeout(r, 10));
    assert.ok(sampler.maxMs >= 100, `max lag ${sampler.maxMs} ms after a 150 ms block`);
  } finally {
    sampler.stop();
  }
});

Deno.test("routeOf keeps the route label bounded", () => {
  assert.equal(routeOf("/cache/anything%20at/all"), "/cache/{key}");
  assert.equal(routeOf("/cache/members"), "/cache/members");
  assert.equal(routeOf("/healthz"), "/healthz");
  assert.equal(routeOf("/random/path"), "other");
});

Deno.test("cache_build_info names deno.json's version and the running Deno", () => {
  const text = new NodeMetrics(() => ({})).text();
  const line = `cache_build_info{version="${denoJson.version}",deno="${Deno.version.deno}"} 1`;
  assert.ok(text.split("\n").includes(line), text);
});
