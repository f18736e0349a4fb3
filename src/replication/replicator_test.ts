import assert from "node:assert/strict";
import { ReplicatorCluster } from "./testing.ts";

Deno.test("Replicator pushes each write to every peer and confirms X-Write-Acks all", async () => {
  const c = new ReplicatorCluster();
  for (const n of ["a", "b", "c"]) c.add(n);
  c.connect();
  const acked = c.write("a", "k", "v1", "all")!;
  c.write("b", "k2", "v2");
  await c.run(20);
  await acked;
  for (const n of c.nodes.values()) {
    assert.equal(n.store.get("k")?.value, "v1");
    assert.equal(n.store.get("k2")?.value, "v2");
  }
  const stats = c.nodes.get("b")!.replicator.stats();
  assert.deepEqual([stats.recordsApplied, stats.acks.waited], [1, 0]);
  assert.equal(c.nodes.get("a")!.replicator.stats().acks.confirmed, 1);
  assert.equal(stats.lagMs.samples, 1);
  c.close();
});

Deno.test("Replicator heals a partition: last writer wins and deletes stay deleted", async () => {
  const c = new ReplicatorCluster();
  for (const n of ["a", "b", "c"]) c.add(n);
  c.connect();
  for (let i = 0; i < 50; i++) c.write("a", `k${i}`, "before");
  await c.run(50);
  assert.equal(new Set(c.digests()).size, 1);

  c.net.partition.split(["a"], ["b", "c"]);
  c.write("b", "k1", "b-first");
  await c.run(5);
  c.write("a", "k1", "a-later"); // written later: wins after healing
  c.write("a", "k2", null); // deleted on the minority side
  c.write("c", "k3", null);
  await c.run(5);
  c.write("a", "k3", "a-after-delete"); // later than the delete: wins
  c.write("c", "k4", "c-only");
  const acked = c.write("a", "k5", "acked?", "all")!.then(() => "ok", (e) => e.message);
  await c.run(3000);
  assert.match(await acked, /1 of 3 replicas/);
  assert.notEqual(c.nodes.get("a")!.store.digest(), c.nodes.get("b")!.store.digest());
  assert.ok(c.nodes.get("a")!.replicator.stats().droppedRecords > 0);

  c.net.partition.heal();
  await c.run(5000); // a few anti-entropy rounds
  assert.equal(new Set(c.digests()).size, 1, "every replica holds the same records");
  for (const n of c.nodes.values()) {
    assert.equal(n.store.get("k1")?.value, "a-later");
    assert.equal(n.store.get("k2"), undefined);
    assert.equal(n.store.get("k3")?.value, "a-after-delete");
    assert.equal(n.store.get("k4")?.value, "c-only");
  }
  const repaired = [...c.nodes.values()].reduce(
    (s, n) => s + n.replicator.stats().antiEntropy.repairedIn,
    0,
  );
  assert.ok(repaired >= 6, `repaired ${repaired}`);
  c.close();
});

Deno.test("Replicator copies the data set before it is ready, answering 503 meanwhile", async () => {
  const c = new ReplicatorCluster();
  c.add("a");
  c.add("b");
  c.connect();
  for (let i = 0; i < 3000; i++) c.write("a", `k${i}`, `v${i}`);
  await c.run(100);
  const joiner = c.add("j", true);
  assert.deepEqual(joiner.replicator.readiness(), { ready: true }, "nobody to copy from yet");
  joiner.replicator.start();
  joiner.replicator.peerUp({ name: "a", host: "mem", httpPort: 1 });
  assert.equal(joiner.replicator.readiness().ready, false);
  assert.throws(() => joiner.replicator.answerSync(new Uint8Array()), /TypeError|Cannot decode/);
  await c.run(200);
  assert.deepEqual(joiner.replicator.readiness(), { ready: true });
  assert.equal(joiner.store.digest(), c.nodes.get("a")!.store.digest());
  const init = joiner.replicator.stats().antiEntropy.initialSync;
  assert.deepEqual([init.state, init.peer, init.records], ["done", "a", 3000]);
  c.close();
});

Deno.test("Replicator starts cold when every peer is still copying", async () => {
  const c = new ReplicatorCluster();
  c.add("a", true);
  c.add("b", true);
  c.connect();
  assert.equal(c.nodes.get("a")!.replicator.readiness().ready, false);
  await c.run(5000);
  for (const n of c.nodes.values()) assert.equal(n.replicator.readiness().ready, true);
  c.close();
});

Deno.test("Replicator runs a round soon after a push/pull shows a differing digest", async () => {
  const c = new ReplicatorCluster();
  const a = c.add("a"), b = c.add("b");
  c.connect();
  b.store.apply("missed", { value: "x", expiresAt: 0, version: b.hlc.version("b") });
  a.replicator.mergeRemoteState(b.replicator.localState());
  a.replicator.mergeRemoteState(new Uint8Array([1, 2, 3])); // garbage is ignored
  await c.run(300);
  assert.equal(a.store.get("missed")?.value, "x");
  assert.equal(a.replicator.stats().malformed, 1);
  c.close();
});

Deno.test("Replicator keeps metadata and tags on the fast path, in repairs, in joins and in reads", async () => {
  const c = new ReplicatorCluster();
  for (const n of ["a", "b"]) c.add(n);
  c.connect();
  const a = c.nodes.get("a")!;
  const extras = { metadata: { owner: "ü", n: [1] }, tags: ["t1", "t2"] };
  const write = (key: string) => {
    const record = { value: "v", expiresAt: 0, version: a.hlc.version("a"), ...extras };
    a.store.apply(key, record);
    return record;
  };
  a.replicator.publish("fast", write("fast"));
  await c.run(20);
  const b = c.nodes.get("b")!;
  assert.deepEqual(b.store.get("fast")?.metadata, extras.metadata);
  assert.deepEqual(b.store.get("fast")?.tags, extras.tags);

  write("repaired"); // never published: only anti-entropy brings it over
  await a.replicator.antiEntropyWith("b");
  assert.deepEqual(b.store.get("repaired")?.tags, extras.tags);

  const joiner = c.join("j"); // copies the data set through sync answers
  await c.run(3000);
  for (const key of ["fast", "repaired"]) {
    assert.deepEqual(joiner.store.get(key)?.metadata, extras.metadata, key);
    assert.deepEqual(joiner.store.get(key)?.tags, extras.tags, key);
  }
  const read = await joiner.replicator.readFrom({ name: "a", host: "mem", httpPort: 1 }, "fast");
  assert.deepEqual([read?.metadata, read?.tags], [extras.metadata, extras.tags]);
  c.close();
});
