import assert from "node:assert/strict";
import { SeededRandom } from "../util/random.ts";
import { backoffDelay, FailedMembers, isSelf, missingSeeds } from "./_seeds.ts";
import { type Member, NodeState } from "./node_types.ts";

const member = (name: string, ip: number, state: NodeState = NodeState.Alive): Member => ({
  name,
  addr: Uint8Array.of(10, 0, 0, ip),
  port: 7946,
  meta: new Uint8Array(),
  state,
  incarnation: 1,
  stateChange: 0,
  vsn: Uint8Array.of(1, 5, 2, 0, 0, 0),
});

Deno.test("backoffDelay doubles from the initial delay to the cap, jittered by ±20%", () => {
  const random = new SeededRandom(1);
  const policy = { initialDelayMs: 1_000, maxDelayMs: 30_000 };
  for (const [attempt, base] of [[0, 1_000], [1, 2_000], [4, 16_000], [5, 30_000], [99, 30_000]]) {
    const d = backoffDelay(policy, attempt, random);
    assert.ok(d >= base * 0.8 && d <= base * 1.2, `attempt ${attempt}: ${d}`);
  }
});

Deno.test("missingSeeds lists seeds that no live member answers for", () => {
  const seeds = [{ host: "10.0.0.1", port: 7946 }, { host: "10.0.0.2", port: 7946 }];
  const self = member("me", 9);
  assert.deepEqual(missingSeeds(seeds, [self, member("a", 1), member("b", 2)], "me"), []);
  assert.deepEqual(
    missingSeeds(seeds, [self, member("a", 1), member("b", 2, NodeState.Dead)], "me"),
    [seeds[1]],
  );
  // A seed named by host name only counts as missing when we are alone.
  const named = [{ host: "seed.example", port: 7946 }];
  assert.deepEqual(missingSeeds(named, [self, member("a", 1)], "me"), []);
  assert.deepEqual(missingSeeds(named, [self, member("a", 1, NodeState.Left)], "me"), named);
});

Deno.test("isSelf matches our own advertised address in either IPv4 form", () => {
  const self = { addr: Uint8Array.of(10, 0, 0, 9), port: 7946 };
  assert.ok(isSelf({ host: "10.0.0.9", port: 7946 }, self));
  assert.ok(isSelf({ host: "::ffff:10.0.0.9", port: 7946 }, self));
  assert.ok(!isSelf({ host: "10.0.0.9", port: 7947 }, self));
  assert.ok(!isSelf({ host: "seed.example", port: 7946 }, self));
});

Deno.test("FailedMembers is bounded, expires and forgets", () => {
  const failed = new FailedMembers(2);
  failed.add("a", { host: "10.0.0.1", port: 1 }, 100);
  failed.add("b", { host: "10.0.0.2", port: 1 }, 200);
  failed.add("c", { host: "10.0.0.3", port: 1 }, 300);
  assert.equal(failed.size, 2);
  failed.expire(250);
  assert.equal(failed.size, 1);
  assert.equal(failed.pick(new SeededRandom(1))?.address.host, "10.0.0.3");
  failed.delete("c");
  assert.equal(failed.pick(new SeededRandom(1)), undefined);
});
