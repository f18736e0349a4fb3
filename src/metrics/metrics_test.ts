import assert from "node:assert/strict";
import { flattenStats, NodeMetrics, routeOf } from "./metrics.ts";
import denoJson from "../../deno.json" with { type: "json" };

Deno.test("flattenStats names fields and turns maps into labels", () => {
  const samples = flattenStats("membership", {
    packetsIn: 3,
    dropped: { crc: 2 },
    members: { alive: 4, dead: 1 },
  });
  assert.deepEqual(samples.map((s) => [s.name, s.labels, s.value]), [
    ["cache_membership_packets_in", {}, 3],
    ["cache_membership_dropped", { reason: "crc" }, 2],
    ["cache_membership_members", { state: "alive" }, 4],
    ["cache_membership_members", { state: "dead" }, 1],
  ]);
});

Deno.test("NodeMetrics exposes stats and request metrics that change with operations", () => {
  let hits = 1;
  const metrics = new NodeMetrics(() => ({
    store: { hits, entries: 5, maxBytes: 100 },
    replication: { peers: { b: { queueDepth: 2 } } },
  }));
  metrics.observeRequest("/cache/{key}", "GET", 200, 0.0002);
  let text = metrics.text();
  assert.match(text, /^cache_store_hits_total 1$/m);
  assert.match(text, /^# TYPE cache_store_entries gauge$/m);
  assert.match(text, /^cache_store_entries 5$/m);
  assert.match(text, /^cache_replication_peers_queue_depth\{peer="b"\} 2$/m);
  assert.match(
    text,
    /^cache_http_requests_total\{route="\/cache\/\{key\}",method="GET",status="200"\} 1$/m,
  );
  assert.match(
    text,
    /^cache_http_request_duration_seconds_bucket\{le="0.00025",route="\/cache\/\{key\}",method="GET"\} 1$/m,
  );
  hits = 7;
  metrics.observeRequest("/cache/{key}", "GET", 200, 0.0002);
  text = metrics.text();
  assert.match(text, /^cache_store_hits_total 7$/m);
  assert.match(text, /status="200"\} 2$/m);
});

Deno.test("routeOf keeps the route label bounded", () => {
  assert.equal(routeOf("/cache/anything%20at/all"), "/cache/{key}");
  assert.equal(routeOf("/cache/members"), "/cache/members");
  assert.equal(routeOf("/healthz"), "/healthz");
  assert.equal(routeOf("/random/path"), "other");
});

Deno.test("NodeMetrics exports the build info, and every sample under its family's HELP and TYPE", () => {
  const metrics = new NodeMetrics(() => ({
    replication: { peers: { a: { queueDepth: 1, sent: 4 }, b: { queueDepth: 2, sent: 5 } } },
  }), { version: "1.2.3", deno: "9.9.9" });
  metrics.observeRequest("/healthz", "GET", 200, 0.003);
  const text = metrics.text();
  assert.match(text, /^# TYPE cache_build_info gauge$/m);
  assert.match(text, /^cache_build_info\{version="1\.2\.3",deno="9\.9\.9"\} 1$/m);
  assert.match(text, /^# TYPE cache_http_request_duration_seconds histogram$/m);
  assert.match(
    text,
    /^cache_http_request_duration_seconds_bucket\{le="\+Inf",route="\/healthz",method="GET"\} 1$/m,
  );
  assert.match(
    text,
    /^cache_http_request_duration_seconds_sum\{route="\/healthz",method="GET"\} 0.003$/m,
  );
  assert.ok(text.endsWith("\n"));
  // Each family's samples directly follow its TYPE line (the format's rule).
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
  assert.match(text, /^cache_replication_peers_sent_total\{peer="b"\} 5$/m);
});

Deno.test("cache_build_info names deno.json's version and the running Deno", () => {
  const text = new NodeMetrics(() => ({})).text();
  const line = `cache_build_info{version="${denoJson.version}",deno="${Deno.version.deno}"} 1`;
  assert.ok(text.split("\n").includes(line), text);
});
