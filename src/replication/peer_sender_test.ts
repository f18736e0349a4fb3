import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { PeerSender, type PeerSenderOptions, type SenderCounters } from "./peer_sender.ts";
import { PeerRequestError, type ReplicationTransport } from "./transport.ts";
import { AckWaiter } from "./write_acks.ts";
import { DeadlineQueue } from "../util/deadlines.ts";

const peer = { name: "b", host: "127.0.0.1", httpPort: 1 };

/** A transport whose requests stay open until the test answers them. */
class ManualTransport implements ReplicationTransport {
  readonly open: { body: Uint8Array; answer(err?: Error): void }[] = [];
  request(_p: unknown, _r: unknown, body: Uint8Array): Promise<Uint8Array> {
    const { promise, resolve, reject } = Promise.withResolvers<Uint8Array>();
    this.open.push({ body, answer: (err) => (err ? reject(err) : resolve(new Uint8Array())) });
    return promise;
  }
  close(): void {}
}

function counters(): SenderCounters {
  return {
    batchesSent: 0,
    recordsSent: 0,
    bytesSent: 0,
    sendFailures: 0,
    droppedRecords: 0,
    backlogDrops: 0,
  };
}

// Batches are the concatenated record bytes, so a test can read back which records went.
function setup(options: Partial<PeerSenderOptions> = {}) {
  const clock = new VirtualClock();
  const transport = new ManualTransport();
  const lost: string[] = [];
  const c = counters();
  const sender = new PeerSender({
    peer,
    transport,
    clock,
    counters: c,
    encodeBatch: (records) => new Uint8Array(records.flatMap((r) => [...r])),
    onLoss: (name) => lost.push(name),
    ...options,
  });
  return { clock, transport, sender, lost, counters: c };
}

const rec = (n: number, size = 1) => ({ bytes: new Uint8Array(size).fill(n), at: 0 });

/** A waiter whose outcome is captured at once (no unhandled rejection). */
function waiterFor(clock: VirtualClock) {
  const waiter = new AckWaiter("all", ["b"], new DeadlineQueue(clock, 10_000));
  const result = waiter.promise.then(() => "ok", (e: Error) => e.message);
  return { waiter, result };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("PeerSender sends a lone write at once and batches what queues meanwhile", async () => {
  const { transport, sender, counters } = setup({ maxInFlight: 1 });
  sender.enqueue(rec(1));
  await tick();
  assert.deepEqual(transport.open.map((o) => [...o.body]), [[1]]);
  for (let i = 2; i <= 5; i++) sender.enqueue(rec(i));
  await tick();
  assert.equal(transport.open.length, 1, "one request in flight at most");
  assert.equal(sender.stats().queued, 4);
  transport.open[0].answer();
  await tick();
  assert.deepEqual([...transport.open[1].body], [2, 3, 4, 5]);
  transport.open[1].answer();
  await tick();
  assert.deepEqual([counters.batchesSent, counters.recordsSent], [2, 5]);
  assert.deepEqual([sender.stats().queued, sender.stats().backlogBytes], [0, 0]);
});

Deno.test("PeerSender splits batches by record count and bytes, a large record alone", async () => {
  const { transport, sender } = setup({ maxInFlight: 4, maxBatchRecords: 3, maxBatchBytes: 10 });
  for (let i = 1; i <= 4; i++) sender.enqueue(rec(i));
  sender.enqueue(rec(9, 20));
  sender.enqueue(rec(7, 6));
  sender.enqueue(rec(8, 6));
  await tick();
  assert.deepEqual(transport.open.map((o) => o.body.length), [3, 1, 20, 6]);
  assert.equal(sender.stats().queued, 1);
});

Deno.test("PeerSender retries a failed batch with backoff, then drops it and asks for repair", async () => {
  const { clock, transport, sender, lost, counters } = setup({ maxInFlight: 1, maxAttempts: 2 });
  const { waiter, result } = waiterFor(clock);
  sender.enqueue({ ...rec(1), waiter });
  await tick();
  transport.open[0].answer(new PeerRequestError("refused", 0, true));
  await tick();
  assert.equal(transport.open.length, 1, "waits out the backoff");
  clock.advance(50);
  await tick();
  assert.deepEqual([...transport.open[1].body], [1], "the same record again");
  transport.open[1].answer(new PeerRequestError("refused", 0, true));
  await tick();
  assert.deepEqual(lost, ["b"]);
  assert.deepEqual([counters.sendFailures, counters.droppedRecords], [2, 1]);
  assert.match(await result, /could not be reached/);
  assert.equal(sender.stats().backlogBytes, 0);
});

Deno.test("PeerSender drops a refused batch (4xx) without retrying", async () => {
  const { transport, sender, counters } = setup();
  sender.enqueue(rec(1));
  await tick();
  transport.open[0].answer(new PeerRequestError("400", 400, false));
  await tick();
  assert.equal(transport.open.length, 1);
  assert.equal(counters.droppedRecords, 1);
});

Deno.test("PeerSender drops the whole backlog past its limit and keeps accepting", async () => {
  const { clock, transport, sender, lost, counters } = setup({
    maxInFlight: 1,
    maxBacklogBytes: 10,
  });
  const first = waiterFor(clock);
  sender.enqueue(rec(1, 4)); // in flight, never answered: a hung peer
  await tick();
  sender.enqueue({ ...rec(2, 4), waiter: first.waiter });
  sender.enqueue({ ...rec(3, 4), waiter: waiterFor(clock).waiter }); // 12 > 10: backlog goes
  assert.deepEqual([counters.backlogDrops, counters.droppedRecords], [1, 1]);
  assert.deepEqual(lost, ["b"]);
  assert.match(await first.result, /backlog was dropped/);
  assert.deepEqual([sender.stats().queued, sender.stats().backlogBytes], [1, 8]);
  assert.equal(transport.open.length, 1);
});

Deno.test("PeerSender waits flushDelayMs before sending and close abandons the queue", async () => {
  const { clock, transport, sender } = setup({ flushDelayMs: 2 });
  const { waiter, result } = waiterFor(clock);
  sender.enqueue({ ...rec(1), waiter });
  await tick();
  assert.equal(transport.open.length, 0);
  clock.advance(2);
  assert.equal(transport.open.length, 1);
  const abandoned = waiterFor(clock);
  sender.enqueue({ ...rec(2), waiter: abandoned.waiter });
  sender.close();
  assert.equal(await abandoned.result, "ok", "a closed peer no longer counts for all");
  assert.equal(sender.enqueue(rec(3)), false);
  transport.open[0].answer();
  assert.equal(await result, "ok", "an answer in flight still counts");
});
