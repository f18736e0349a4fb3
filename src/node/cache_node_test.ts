import assert from "node:assert/strict";
import { CacheNode } from "./cache_node.ts";
import { VirtualClock } from "../util/clock.ts";
import { createLogger } from "../util/log.ts";
import denoJson from "../../deno.json" with { type: "json" };

Deno.test("CacheNode TTLs are exact to the millisecond on an injected clock", async () => {
  const clock = new VirtualClock();
  await using node = new CacheNode({ defaultTtlMs: 0 }, { clock });
  await node.start({ http: false, cluster: false });
  await node.set("k", "v", { ttlMs: 1500 });
  clock.advance(1499);
  assert.equal(node.get("k")?.value, "v");
  clock.advance(1);
  assert.equal(node.get("k"), undefined);
});

Deno.test("CacheNode applies the default TTL and 0 means no expiry", async () => {
  const clock = new VirtualClock();
  await using node = new CacheNode({ defaultTtlMs: 1000 }, { clock });
  await node.start({ http: false, cluster: false });
  await node.set("default", "a");
  await node.set("forever", "b", { ttlMs: 0 });
  clock.advance(1000);
  assert.equal(node.get("default"), undefined);
  clock.advance(3600 * 1000);
  assert.equal(node.get("forever")?.value, "b");
  assert.equal(node.get("forever")?.expiresAt, 0);
});

Deno.test("CacheNode reclaims expired entries without reads, their tombstones after TOMBSTONE_TTL", async () => {
  const clock = new VirtualClock();
  await using node = new CacheNode({ tombstoneTtlMs: 60_000 }, { clock });
  await node.start({ http: false, cluster: false });
  for (let i = 0; i < 10_000; i++) await node.set(`k${i}`, "x".repeat(50), { ttlMs: 100 + i });
  assert.equal(node.stats().store.entries, 10_000);
  const full = node.stats().store.bytes;
  for (let t = 0; t < 200; t++) clock.advance(100);
  const { entries, tombstones, bytes } = node.stats().store;
  assert.deepEqual([entries, tombstones], [0, 10_000]);
  assert.equal(bytes, full - 10_000 * 50, "a tombstone keeps the key, not the value");
  for (let t = 0; t < 50; t++) clock.advance(1_000);
  assert.deepEqual([node.stats().store.tombstones, node.stats().store.bytes], [0, 0]);
});

Deno.test("CacheNode delete wins over an earlier set and a later set wins over the delete", async () => {
  const clock = new VirtualClock();
  await using node = new CacheNode({}, { clock });
  await node.start({ http: false, cluster: false });
  await node.set("k", "1");
  await node.delete("k");
  assert.equal(node.get("k"), undefined);
  await node.set("k", "2");
  assert.equal(node.get("k")?.value, "2");
});

Deno.test("CacheNode rejects an entry larger than the whole budget with a RangeError", async () => {
  await using node = new CacheNode({ maxMemoryBytes: 1024, maxValueBytes: 1024 });
  await node.start({ http: false, cluster: false });
  await assert.rejects(node.set("big", "x".repeat(2000)), RangeError);
  assert.equal(node.get("big"), undefined);
});

Deno.test("CacheNode starts and closes repeatedly, serving HTTP on an ephemeral port", async () => {
  const node = new CacheNode({ httpPort: 0, gossipPort: 0 });
  for (let i = 0; i < 2; i++) {
    await node.start();
    const port = node.httpAddress!.port;
    const res = await fetch(`http://127.0.0.1:${port}/healthz`);
    assert.equal(res.status, 200);
    await res.body?.cancel();
    await node.close();
  }
  await node.close();
});

Deno.test("the node started log line and /stats name cachenode's version", async () => {
  const lines: string[] = [];
  const logger = createLogger({ format: "json", write: (line) => lines.push(line) });
  await using node = new CacheNode({ nodeName: "v" }, { logger });
  await node.start({ http: false, cluster: false });
  const started = lines.map((l) => JSON.parse(l)).find((r) => r.msg === "node started");
  assert.equal(started?.version, denoJson.version);
  assert.equal(node.stats().version, denoJson.version);
});
