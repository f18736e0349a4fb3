/**
 * What a replica's JavaScript spends on a batch (issue 15): decoding a batch of 20 plain records
 * (100 B values, 10,000 keys) and applying each to a store, in process. Set against the CPU a
 * replica process spends per record under load (`replicated_put_bench.ts`), it tells the
 * per-record work from the per-batch work of the process (docs/benchmarks.md, "Fourth round").
 *
 * Usage: `taskset -c 0 deno bench --allow-all scripts/bench/replica_apply_bench.ts`
 *
 * @module
 */

import { ReplicationCodec } from "../../src/replication/codec.ts";
import { TtlStore } from "../../src/store/mod.ts";
import { systemClock } from "../../src/util/clock.ts";
import { hlcFromParts } from "../../src/util/hlc.ts";

const RECORDS = 20;
const BATCHES = 500;
const codec = new ReplicationCodec({
  maxKeyBytes: 1024,
  maxValueBytes: 4 << 20,
  maxMessageBytes: 8 << 20,
});
const store = new TtlStore({ clock: systemClock });
const value = "v".repeat(100);
let hlc = hlcFromParts(Date.now());

function batch(first: number): Uint8Array {
  const records = [];
  for (let i = 0; i < RECORDS; i++) {
    records.push(codec.encodeRecord({
      key: `k${(first + i) % 10_000}`,
      value,
      expiresAt: Date.now() + 60_000,
      version: { hlc: ++hlc, node: "a" },
    }, 0));
  }
  return codec.encodeBatch("a", ["a"], records);
}

const bodies = Array.from({ length: BATCHES }, (_, i) => batch(i * RECORDS));
const decoded = bodies.map((body) => codec.decodeBatch(body));
let next = 0;

Deno.bench(`decode a batch of ${RECORDS} records`, () => {
  codec.decodeBatch(bodies[next++ % BATCHES]);
});

Deno.bench(`apply ${RECORDS} records`, () => {
  for (const record of decoded[next++ % BATCHES].records) {
    record.version.hlc += 1_000_000; // each round newer than the last, so every record applies
    store.apply(record.key, record);
  }
});
