import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { DeadlineQueue } from "../util/deadlines.ts";
import { AckWaiter, parseAckRequirement, WriteAcksError } from "./write_acks.ts";

async function outcome(w: AckWaiter): Promise<string> {
  return await w.promise.then(
    () => "ok",
    (e: WriteAcksError) => `${e.confirmed}/${e.required}: ${e.message}`,
  );
}

Deno.test("parseAckRequirement reads all or a count and refuses anything else", () => {
  assert.equal(parseAckRequirement(null), undefined);
  assert.equal(parseAckRequirement("all"), "all");
  assert.equal(parseAckRequirement(" ALL "), "all");
  assert.equal(parseAckRequirement("2"), 2);
  for (const bad of ["0", "-1", "1.5", "", "two", "9999999"]) {
    assert.throws(() => parseAckRequirement(bad), /Invalid X-Write-Acks/);
  }
});

Deno.test("AckWaiter counts the local replica and resolves at the required count", async () => {
  const clock = new VirtualClock();
  assert.equal(await outcome(new AckWaiter(1, ["b"], new DeadlineQueue(clock, 100))), "ok");
  const w = new AckWaiter(2, ["b", "c"], new DeadlineQueue(clock, 100));
  w.report("b", "ack");
  w.report("b", "ack"); // a repeated report counts once
  assert.equal(await outcome(w), "ok");
  assert.equal(w.confirmed, 2);
  clock.advance(100);
  assert.equal(await outcome(w), "ok", "a confirmed write does not time out afterwards");
  assert.equal(clock.pending, 0, "no timer left");
});

Deno.test("AckWaiter with all waits for every peer and stops counting on peers that leave", async () => {
  const clock = new VirtualClock();
  const w = new AckWaiter("all", ["b", "c"], new DeadlineQueue(clock, 100));
  w.report("b", "ack");
  w.report("c", "gone");
  assert.equal(await outcome(w), "ok");
});

Deno.test("AckWaiter fails on timeout, on lost copies, and at once when impossible", async () => {
  const clock = new VirtualClock();
  const slow = new AckWaiter("all", ["b", "c"], new DeadlineQueue(clock, 100));
  slow.report("b", "ack");
  clock.advance(100);
  assert.equal(await outcome(slow), "2/3: Write confirmed by 2 of 3 replicas within 100 ms");

  const lost = new AckWaiter("all", ["b"], new DeadlineQueue(clock, 100));
  lost.report("b", "dropped");
  assert.match(await outcome(lost), /^1\/2: .*backlog was dropped/);

  const quorum = new AckWaiter(2, ["b", "c"], new DeadlineQueue(clock, 100));
  quorum.report("b", "failed");
  assert.equal(clock.pending > 0, true, "c can still confirm");
  quorum.report("c", "gone");
  assert.match(await outcome(quorum), /^1\/2: .*a replica left/);

  assert.match(
    await outcome(new AckWaiter(4, ["b", "c"], new DeadlineQueue(clock, 100))),
    /^1\/4: .*only 3 live/,
  );
});
