import assert from "node:assert/strict";
import { SimCluster } from "./sim_cluster.ts";

Deno.test("SimMember joins through a seed with a push/pull and both learn each other", async () => {
  const c = new SimCluster({ seed: 2 });
  const [a, b] = c.addMany(2);
  c.startAll();
  const joins: string[] = [];
  c.onEffect((_, observer, e) => {
    if (e.type === "join") joins.push(`${observer.name}:${e.member.name}`);
  });
  const joined = b.member.join(a.member.address);
  await c.run(1_000);
  await joined;
  assert.equal(a.member.stateOf("n1"), "alive");
  assert.equal(b.member.stateOf("n0"), "alive");
  assert.deepEqual(joins.sort(), ["n0:n1", "n1:n0"]);
  await c.close();
});

Deno.test("SimMember refuses a warm start after start and a second start", async () => {
  const c = new SimCluster();
  const [a] = c.addMany(1);
  a.member.start();
  assert.throws(() => a.member.warmStart([]), Error);
  assert.throws(() => a.member.start(), Error);
  await a.member.shutdown();
  assert.equal(a.member.closed, true);
  await c.close();
});
