import assert from "node:assert/strict";
import { CacheNode } from "./cache_node.ts";
import { VirtualClock } from "../util/clock.ts";
import {
  type ChangeEvent,
  InvalidInputError,
  NotACounterError,
  NotEnoughReplicasError,
  PreconditionFailedError,
} from "../service/mod.ts";

async function node(config: ConstructorParameters<typeof CacheNode>[0] = {}) {
  const clock = new VirtualClock();
  const n = new CacheNode({ maxKeyBytes: 64, maxValueBytes: 1024, ...config }, { clock });
  await n.start({ http: false, cluster: false });
  return Object.assign(n, { clock });
}

Deno.test("CacheNode.incr counts from 0, keeps the counter's expiry and refuses non-integers", async () => {
  await using n = await node();
  assert.equal(await n.incr("c"), 1);
  assert.equal(await n.incr("c", { by: 41 }), 42);
  assert.equal(await n.incr("c", { by: -50 }), -8);
  assert.equal(n.get("c")?.value, "-8");
  assert.equal(await n.incr("t", { ttlMs: 1000 }), 1);
  n.clock.advance(600);
  assert.equal(await n.incr("t", { ttlMs: 60_000 }), 2); // existing: expiry unchanged
  n.clock.advance(400);
  assert.equal(n.get("t"), undefined);
  await n.set("text", "abc");
  await assert.rejects(n.incr("text"), NotACounterError);
  await n.set("big", String(Number.MAX_SAFE_INTEGER));
  await assert.rejects(n.incr("big"), NotACounterError);
  await assert.rejects(n.incr("c", { by: 1.5 }), InvalidInputError);
  assert.equal(n.get("text")?.value, "abc");
});

Deno.test("CacheNode conditional writes: If-Match on the current version, create-only", async () => {
  await using n = await node();
  await n.set("k", "v1", { ifAbsent: true });
  await assert.rejects(n.set("k", "again", { ifAbsent: true }), PreconditionFailedError);
  const v1 = n.get("k")!.version;
  await n.set("k", "v2", { ifMatch: v1 });
  await assert.rejects(n.set("k", "v3", { ifMatch: v1 }), PreconditionFailedError);
  assert.equal(n.get("k")?.value, "v2");
  await assert.rejects(n.delete("k", { ifMatch: v1 }), PreconditionFailedError);
  await n.delete("k", { ifMatch: n.get("k")!.version });
  assert.equal(n.get("k"), undefined);
  await assert.rejects(n.set("k", "x", { ifMatch: v1 }), PreconditionFailedError);
});

Deno.test("CacheNode.list pages through keys by prefix with a cursor, with expiry and metadata", async () => {
  await using n = await node();
  for (let i = 0; i < 25; i++) await n.set(`user:${String(i).padStart(2, "0")}`, "v");
  await n.set("other", "v");
  await n.set("user:meta", "v", { metadata: { role: "admin" }, ttlMs: 5000 });
  const seen: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 10; pages++) {
    const page = await n.list({ prefix: "user:", limit: 10, cursor });
    seen.push(...page.keys.map((k) => k.name));
    if (page.complete) break;
    cursor = page.cursor;
  }
  assert.equal(seen.length, 26);
  assert.deepEqual(seen, [...seen].sort());
  const meta = (await n.list({ prefix: "user:m" })).keys[0];
  assert.deepEqual(meta, {
    name: "user:meta",
    expiresAt: n.now() + 5000,
    metadata: { role: "admin" },
  });
  await assert.rejects(n.list({ limit: 0 }), InvalidInputError);
  await assert.rejects(n.list({ cursor: "%%%" }), InvalidInputError);
});

Deno.test("CacheNode.purge deletes tagged and named keys, flush everything; watch sees it", async () => {
  await using n = await node();
  const events: ChangeEvent[] = [];
  const stop = n.watch("a", (e) => events.push(e));
  await n.set("a1", "v", { tags: ["red"] });
  await n.set("a2", "v", { tags: ["red", "blue"] });
  await n.set("b1", "v", { tags: ["blue"] });
  await n.set("b2", "v");
  assert.equal(await n.purge({ tags: ["red"] }), 2);
  assert.equal(await n.purge({ keys: ["b2", "missing"] }), 1);
  assert.deepEqual([n.get("a1"), n.get("a2"), n.get("b2")], [undefined, undefined, undefined]);
  assert.equal(n.get("b1")?.value, "v");
  assert.equal(await n.flush(), 1);
  assert.equal(n.get("b1"), undefined);
  stop();
  await n.set("a3", "v");
  assert.deepEqual(events.map((e) => `${e.kind} ${e.key}`), [
    "put a1",
    "put a2",
    "delete a1",
    "delete a2",
  ]);
});

Deno.test("CacheNode's embedded API enforces the HTTP API's limits", async () => {
  await using n = await node();
  const status = (s: number) => (err: unknown) =>
    err instanceof InvalidInputError && err.status === s;
  await assert.rejects(n.set("", "v"), status(400));
  await assert.rejects(n.set("k".repeat(65), "v"), status(414));
  await assert.rejects(n.set("k", "v".repeat(1025)), status(413));
  await assert.rejects(n.set("k", new Uint8Array(1025)), status(413));
  await assert.rejects(n.set("k", "v", { metadata: { x: "y".repeat(1100) } }), status(413));
  await assert.rejects(n.set("k", "v", { tags: [""] }), status(400));
  await assert.rejects(n.set("k", "v", { tags: Array(33).fill("t") }), status(400));
  await assert.rejects(n.set("k", "v", { acks: 2 }), NotEnoughReplicasError);
  assert.equal(n.stats().store.entries, 0);
  await n.set("k", "v", { acks: 1 });
  assert.equal(n.get("k")?.value, "v");
});
