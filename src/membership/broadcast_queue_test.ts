import assert from "node:assert/strict";
import { SeededRandom } from "../util/random.ts";
import { type Broadcast, BroadcastQueue } from "./broadcast_queue.ts";

const text = new TextDecoder();

/** A broadcast whose message is `label` padded with '.' to `size` bytes. */
function msg(label: string, size = label.length, extra: Partial<Broadcast> = {}): Broadcast {
  const bytes = new TextEncoder().encode(label.padEnd(size, "."));
  return { message: bytes, ...extra };
}

function labels(out: Uint8Array[]): string[] {
  return out.map((b) => text.decode(b).replace(/\.+$/, ""));
}

function queue(numNodes = 1, retransmitMult = 4): BroadcastQueue {
  return new BroadcastQueue({ numNodes: () => numNodes, retransmitMult });
}

Deno.test("BroadcastQueue sends fewest transmits first, then largest, then newest", () => {
  const q = queue(1, 4);
  q.queue(msg("old", 10));
  q.queue(msg("big", 30));
  q.queue(msg("new", 10));
  assert.deepEqual(labels(q.getBroadcasts(0, 1_000)), ["big", "new", "old"]);
  q.queue(msg("fresh", 5));
  // "fresh" has 0 transmits, the others 1: it goes first even though it is smaller.
  assert.deepEqual(labels(q.getBroadcasts(0, 1_000)), ["fresh", "big", "new", "old"]);
  assert.deepEqual(q.entries().map((e) => e.transmits), [1, 2, 2, 2]);
});

Deno.test("BroadcastQueue.getBroadcasts() packs the largest message that fits, per tier", () => {
  const q = queue(1, 4);
  q.queue(msg("a", 50));
  q.queue(msg("b", 40));
  q.queue(msg("c", 20));
  // limit 70, overhead 2: a (52) fits, then 18 free: b and c don't fit.
  assert.deepEqual(labels(q.getBroadcasts(2, 70)), ["a"]);
  // Now a has 1 transmit; b (42) and c (22) have 0: both fit in 70.
  assert.deepEqual(labels(q.getBroadcasts(2, 70)), ["b", "c"]);
  // Nothing fits in a budget smaller than overhead + the smallest message.
  assert.deepEqual(q.getBroadcasts(2, 21), []);
  // The budget is exactly overhead + len.
  assert.deepEqual(labels(q.getBroadcasts(2, 22)), ["c"]);
});

Deno.test("BroadcastQueue never returns a broadcast twice in one packet", () => {
  const q = queue(1, 4);
  q.queue(msg("only", 4));
  assert.deepEqual(labels(q.getBroadcasts(0, 1_000)), ["only"]);
});

Deno.test("BroadcastQueue transmits each broadcast retransmitLimit times, then finishes it", () => {
  for (const [n, limit] of [[5, 4], [50, 8], [500, 12]]) {
    let finished = 0;
    const q = queue(n, 4);
    assert.equal(q.retransmitLimit, limit);
    q.queue(msg("x", 10, { finished: () => finished++ }));
    let sent = 0;
    while (q.size > 0) sent += q.getBroadcasts(2, 1_400).length;
    assert.equal(sent, limit, `n=${n}`);
    assert.equal(finished, 1);
  }
});

Deno.test("BroadcastQueue with an estimated cluster of 0 sends once", () => {
  const q = queue(0, 4);
  q.queue(msg("x"));
  assert.equal(q.getBroadcasts(0, 100).length, 1);
  assert.equal(q.size, 0);
});

Deno.test("BroadcastQueue reads the cluster size at every selection", () => {
  let n = 5;
  const q = new BroadcastQueue({ numNodes: () => n, retransmitMult: 2 });
  q.queue(msg("x"));
  q.getBroadcasts(0, 100); // 1 of 2
  n = 50; // limit becomes 4
  q.getBroadcasts(0, 100);
  q.getBroadcasts(0, 100);
  assert.equal(q.size, 1);
  q.getBroadcasts(0, 100);
  assert.equal(q.size, 0);
});

Deno.test("BroadcastQueue: a named broadcast replaces (and finishes) the older one of that name", () => {
  const q = queue(10, 4);
  const finished: string[] = [];
  q.queue(msg("suspect-b", 20, { name: "b", finished: () => finished.push("suspect-b") }));
  q.queue(msg("alive-c", 20, { name: "c" }));
  q.getBroadcasts(0, 1_000);
  q.queue(msg("alive-b", 20, { name: "b", finished: () => finished.push("alive-b") }));
  assert.deepEqual(finished, ["suspect-b"]);
  assert.equal(q.size, 2);
  // The replacement starts over at 0 transmits, so it is sent first.
  assert.deepEqual(labels(q.getBroadcasts(0, 1_000)), ["alive-b", "alive-c"]);
});

Deno.test("BroadcastQueue: invalidates() drops plain broadcasts, never named or unique ones", () => {
  const q = queue(10, 4);
  const finished: string[] = [];
  const plain = (label: string, extra: Partial<Broadcast> = {}) =>
    msg(label, label.length, { finished: () => finished.push(label), ...extra });
  q.queue(plain("key1-v1"));
  q.queue(plain("key2-v1"));
  q.queue(plain("key1-named", { name: "key1" }));
  q.queue(plain("key1-unique", { unique: true }));
  q.queue(plain("key1-v2", {
    invalidates: (other) => text.decode(other.message).startsWith("key1"),
  }));
  assert.deepEqual(finished, ["key1-v1"]);
  assert.deepEqual(
    q.entries().map((e) => text.decode(e.broadcast.message)).sort(),
    ["key1-named", "key1-unique", "key1-v2", "key2-v1"],
  );
});

Deno.test("BroadcastQueue.prune() drops the most-transmitted broadcasts first", () => {
  const q = queue(100, 4);
  const finished: string[] = [];
  const f = (label: string) => msg(label, 10, { finished: () => finished.push(label) });
  q.queue(f("oldest"));
  q.getBroadcasts(0, 1_000);
  q.queue(f("middle"));
  q.getBroadcasts(0, 1_000);
  q.queue(f("newest"));
  q.prune(2);
  assert.deepEqual(finished, ["oldest"]);
  q.prune(0);
  assert.deepEqual(finished, ["oldest", "middle", "newest"]);
  assert.equal(q.size, 0);
  q.prune(5);
});

Deno.test("BroadcastQueue.reset() finishes everything and empties the queue", () => {
  const q = queue(10, 4);
  let finished = 0;
  for (let i = 0; i < 5; i++) {
    q.queue(msg(`m${i}`, 5, { name: `n${i}`, finished: () => finished++ }));
  }
  q.reset();
  assert.equal(finished, 5);
  assert.equal(q.size, 0);
  assert.deepEqual(q.getBroadcasts(0, 1_000), []);
  q.queue(msg("again", 5, { name: "n0" }));
  assert.equal(q.size, 1);
});

Deno.test("BroadcastQueue finished callbacks may use the queue", () => {
  const q = queue(1, 1);
  q.queue(msg("first", 5, { finished: () => q.queue(msg("second", 6)) }));
  assert.deepEqual(labels(q.getBroadcasts(0, 1_000)), ["first"]);
  assert.deepEqual(labels(q.getBroadcasts(0, 1_000)), ["second"]);
});

Deno.test("BroadcastQueue rejects a bad retransmitMult", () => {
  assert.throws(() => queue(1, 0), /retransmitMult must be an integer >= 1: received 0/);
});

// A direct, O(n) transcription of memberlist's selection rules to check the treap against.
class ReferenceQueue {
  entries: { t: number; len: number; id: number; name: string; label: string }[] = [];
  id = 0;
  constructor(readonly limit: () => number) {}
  queue(label: string, len: number, name: string) {
    if (name) this.entries = this.entries.filter((e) => e.name !== name);
    this.entries.push({ t: 0, len, id: ++this.id, name, label });
  }
  get(overhead: number, limit: number): string[] {
    if (this.entries.length === 0) return [];
    const order = (a: typeof this.entries[0], b: typeof this.entries[0]) =>
      a.t - b.t || b.len - a.len || b.id - a.id;
    const pool = [...this.entries].sort(order);
    const minT = pool[0].t, maxT = pool.at(-1)!.t;
    const out: string[] = [];
    const done = new Set<typeof pool[0]>();
    let used = 0;
    for (let t = minT; t <= maxT;) {
      const free = limit - used - overhead;
      if (free <= 0) break;
      const pick = pool.find((e) => !done.has(e) && e.t === t && e.len <= free);
      if (!pick) {
        t++;
        continue;
      }
      done.add(pick);
      used += overhead + pick.len;
      out.push(pick.label);
    }
    for (const e of done) {
      if (e.t + 1 >= this.limit()) this.entries = this.entries.filter((x) => x !== e);
      else e.t++;
    }
    return out;
  }
}

Deno.test("BroadcastQueue matches a reference model over random operations", () => {
  const random = new SeededRandom(42);
  let n = 3;
  const q = new BroadcastQueue({ numNodes: () => n, retransmitMult: 3 });
  const ref = new ReferenceQueue(() => 3 * Math.ceil(Math.log10(n + 1)));
  for (let step = 0; step < 3_000; step++) {
    const r = random.next();
    if (r < 0.5) {
      const len = 1 + Math.floor(random.next() * 60);
      const name = random.next() < 0.7 ? `node${Math.floor(random.next() * 20)}` : "";
      const label = `s${step}`;
      const b = msg(label, len, name ? { name } : {});
      q.queue(b);
      ref.queue(label, b.message.length, name);
    } else if (r < 0.95) {
      const limit = 20 + Math.floor(random.next() * 200);
      assert.deepEqual(labels(q.getBroadcasts(2, limit)), ref.get(2, limit), `step ${step}`);
    } else {
      n = 1 + Math.floor(random.next() * 200);
    }
    assert.equal(q.size, ref.entries.length);
  }
});
