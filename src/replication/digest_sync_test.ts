import assert from "node:assert/strict";
import { TtlStore } from "../store/mod.ts";
import { VirtualClock } from "../util/clock.ts";
import { hlcFromParts, HybridLogicalClock } from "../util/hlc.ts";
import { ReplicationCodec } from "./codec.ts";
import { answerSync, applyRecords, type SyncContext, syncWithPeer } from "./digest_sync.ts";
import { decodeSyncRequest } from "./sync_messages.ts";
import { MemoryReplicationNetwork } from "./testing.ts";

const T0 = 1_700_000_000_000;
const v = (ms: number, node: string) => ({ hlc: hlcFromParts(T0 + ms), node });

function node(
  name: string,
  clock: VirtualClock,
  net: MemoryReplicationNetwork,
  chunkBytes = 1 << 20,
) {
  const store = new TtlStore({ clock, digestBuckets: 64, hashSeed: 1 });
  const codec = new ReplicationCodec({
    maxKeyBytes: 64,
    maxValueBytes: 1024,
    maxMessageBytes: 1 << 22,
  });
  const ctx: SyncContext = {
    name,
    store,
    hlc: new HybridLogicalClock(clock),
    codec,
    transport: net.transport(name),
    timeoutMs: 1000,
    chunkBytes,
    batchBytes: 4096,
  };
  net.register(name, {
    read: () => new Uint8Array(),
    answerSync: (body) => answerSync(ctx, decodeSyncRequest(codec, body)),
    receiveBatch: (body) => {
      applyRecords(ctx, codec.decodeBatch(body).records);
      return new Uint8Array();
    },
  });
  return { ctx, store, peer: { name, host: "mem", httpPort: 1 } };
}

Deno.test("syncWithPeer repairs both sides and sends only the differing buckets", async () => {
  const clock = new VirtualClock(T0 + 1000);
  const net = new MemoryReplicationNetwork();
  const a = node("a", clock, net), b = node("b", clock, net);
  for (let i = 0; i < 2000; i++) {
    const r = { value: `v${i}`, expiresAt: 0, version: v(i % 100, "a") };
    a.store.apply(`k${i}`, r);
    b.store.apply(`k${i}`, r);
  }
  a.store.apply("only-a", { value: "1", expiresAt: 0, version: v(200, "a") });
  b.store.apply("only-b", { value: "2", expiresAt: 0, version: v(200, "b") });
  a.store.apply("k1", { value: "newer on a", expiresAt: 0, version: v(300, "a") });
  b.store.apply("k2", { value: null, expiresAt: 0, version: v(300, "b") }); // delete on b
  b.store.apply("k3", { value: "newer on b", expiresAt: 0, version: v(300, "b") });
  a.store.apply("expired", { value: "x", expiresAt: T0 + 1500, version: v(250, "a") });
  a.store.apply("mine", { value: "local", expiresAt: 0, version: v(400, "a"), local: true });
  clock.advance(600); // "expired" is now past its time
  const bucketsOf = new Set(
    ["only-a", "only-b", "k1", "k2", "k3", "expired"].map((k) => a.store.bucketOf(k)),
  );

  const out = await syncWithPeer(a.ctx, b.peer);
  assert.equal(a.store.digest(), b.store.digest());
  assert.equal(out.buckets, bucketsOf.size);
  assert.ok(out.received < 2000 * bucketsOf.size / 64 * 1.5 + 10, `received ${out.received}`);
  assert.deepEqual([out.applied, out.pushed], [3, 3]);
  assert.equal(b.store.get("k1")?.value, "newer on a");
  assert.equal(a.store.get("k2"), undefined);
  assert.equal(a.store.peek("k2")?.value, null, "the tombstone travelled");
  assert.equal(a.store.get("k3")?.value, "newer on b");
  assert.equal(b.store.get("only-a")?.value, "1");
  assert.equal(a.store.get("only-b")?.value, "2");
  assert.equal(b.store.get("expired"), undefined, "an expired entry is not sent live...");
  assert.equal(b.store.peek("expired")?.value, null, "...but as the tombstone it became");
  assert.equal(b.store.peek("mine"), undefined, "node-local entries are not sent");

  const again = await syncWithPeer(b.ctx, a.peer);
  assert.deepEqual([again.requests, again.buckets, again.received], [1, 0, 0]);
});

Deno.test("syncWithPeer copies a whole data set in ranges and bounded chunks", async () => {
  const clock = new VirtualClock(T0);
  const net = new MemoryReplicationNetwork();
  const src = node("src", clock, net, 8 * 1024), dst = node("dst", clock, net);
  for (let i = 0; i < 5000; i++) {
    src.store.apply(`key-${i}`, {
      value: "x".repeat(40),
      expiresAt: T0 + 60_000 + i,
      version: v(i, "src"),
    });
  }
  const out = await syncWithPeer(dst.ctx, src.peer, { ranges: 4, concurrency: 2 });
  assert.equal(out.received, 5000);
  assert.equal(out.pushed, 0);
  assert.ok(out.requests > 4 * 4, `${out.requests} requests of at most ~8 KiB`);
  assert.equal(dst.store.digest(), src.store.digest());
  assert.equal(dst.store.get("key-4999")?.expiresAt, T0 + 60_000 + 4999);
  assert.ok(dst.ctx.hlc.last >= v(4999, "src").hlc, "the clock moved past every version received");
});

Deno.test("answerSync refuses a request with a different bucket count", () => {
  const net = new MemoryReplicationNetwork();
  const a = node("a", new VirtualClock(T0), net);
  const req = { from: "b", buckets: 128, lo: 0, hi: 1, digests: new Uint32Array(2), maxBytes: 10 };
  assert.throws(() => answerSync(a.ctx, req), /bucket counts differ: received 128, ours 64/);
});
