/**
 * The digest exchange, both sides. The initiator sends its per-bucket digests for a range; the
 * responder ({@link answerSync}) compares them with its own and answers with its records of the
 * differing buckets (expired ones are reclaimed first and never sent; node-local ones are not in
 * the buckets at all), up to a byte budget; the initiator ({@link syncWithPeer}) applies them
 * (last writer wins) and pushes back its own records of those buckets that the responder lacks
 * or holds in an older version, then continues from where the answer stopped. So one exchange
 * repairs both sides, and only differing buckets travel.
 *
 * A node joining or restarting empty runs the same exchange over every bucket: all of them
 * differ, so it receives the whole data set. Past the first answer (which covers everything
 * when the data set is small), the rest is split into ranges fetched `concurrency` at a time,
 * so that the source encodes one chunk while the joiner applies the previous one.
 *
 * @module
 */

import { type KeyedRecord, type TtlStore } from "../store/mod.ts";
import { compareVersions, type HybridLogicalClock } from "../util/hlc.ts";
import { recordWireSize, type ReplicationCodec } from "./codec.ts";
import { inBucketMask } from "./placement.ts";
import {
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  type SyncRequest,
  type SyncResponse,
} from "./sync_messages.ts";
import type { PeerAddress, ReplicationTransport } from "./transport.ts";

/** Everything one side of an exchange works with. */
export interface SyncContext {
  /** This node's name. */
  name: string;
  /** This node's store. */
  store: TtlStore;
  /** This node's clock, advanced past every version received. */
  hlc: HybridLogicalClock;
  /** Encoding with this node's limits. */
  codec: ReplicationCodec;
  /** How requests reach peers. */
  transport: ReplicationTransport;
  /** Deadline of one request, ms. */
  timeoutMs: number;
  /** Soft limit on one answer's record bytes. */
  chunkBytes: number;
  /** Most record bytes per push-back batch. */
  batchBytes: number;
}

/** What an exchange did. */
export interface SyncOutcome {
  /** Requests made. */
  requests: number;
  /** Buckets that differed. */
  buckets: number;
  /** Records received. */
  received: number;
  /** Received records that won locally (repairs of this node). */
  applied: number;
  /** Records pushed back to the peer (repairs of the peer). */
  pushed: number;
  /** Received records refused because their clock was too far ahead. */
  rejected: number;
}

/** An outcome with nothing done. */
export function emptyOutcome(): SyncOutcome {
  return { requests: 0, buckets: 0, received: 0, applied: 0, pushed: 0, rejected: 0 };
}

/** Options of {@link syncWithPeer}. */
export interface SyncOptions {
  /** Number of equal bucket ranges requested independently. @default 1 */
  ranges?: number;
  /** Ranges in flight at once. @default 1 */
  concurrency?: number;
  /** Whether to push our winning records back to the peer. @default true */
  pushBack?: boolean;
  /** Only these buckets (a bitmap, see `Placement.sharedBuckets`). @default every bucket */
  only?: Uint8Array;
}

/**
 * Answers a sync request from `ctx.store`: the records of each bucket in `lo..hi-1` whose digest
 * differs from the request's, stopping at a bucket boundary once `maxBytes` (the smaller of the
 * request's and `ctx.chunkBytes`) is reached. Throws a `RangeError` when bucket counts differ.
 */
export function answerSync(ctx: SyncContext, req: SyncRequest): Uint8Array {
  const { store } = ctx;
  if (req.buckets !== store.bucketCount) {
    throw new RangeError(
      `Cannot answer sync: bucket counts differ: received ${req.buckets}, ours ${store.bucketCount}`,
    );
  }
  const ours = store.bucketDigests();
  const limit = Math.max(1, Math.min(req.maxBytes, ctx.chunkBytes));
  const answer: SyncResponse = {
    next: req.hi,
    differing: [],
    digests: new Uint32Array(),
    records: [],
  };
  let bytes = 0;
  const only = req.only;
  for (let b = req.lo; b < req.hi; b++) {
    const i = 2 * (b - req.lo);
    if (ours[2 * b] === req.digests[i] && ours[2 * b + 1] === req.digests[i + 1]) continue;
    if (only && !inBucketMask(only, b)) continue;
    if (bytes >= limit) {
      answer.next = b;
      break;
    }
    answer.differing.push(b);
    for (const r of store.recordsInBucket(b)) {
      answer.records.push(r);
      bytes += recordWireSize(r);
    }
  }
  // After listing (which reclaims expired records), so they describe exactly what was sent.
  const after = store.bucketDigests();
  answer.digests = new Uint32Array(answer.differing.length * 2);
  answer.differing.forEach((b, i) => answer.digests.set(after.subarray(2 * b, 2 * b + 2), 2 * i));
  return encodeSyncResponse(ctx.codec, answer);
}

/** Applies received records last-writer-wins; returns [applied, rejected]. */
export function applyRecords(ctx: SyncContext, records: readonly KeyedRecord[]): [number, number] {
  let applied = 0, rejected = 0;
  for (const r of records) {
    // A version far ahead of our clock is refused (see util/hlc.ts), not applied.
    if (!ctx.hlc.observe(r.version.hlc)) {
      rejected++;
      continue;
    }
    if (ctx.store.apply(r.key, r).applied) applied++;
  }
  return [applied, rejected];
}

/**
 * Runs the exchange with `peer` over every bucket and resolves with what it did; rejects with
 * the first failed request (a `PeerRequestError`; `notReady` when the peer is still copying its
 * own data set). Work done before a failure stays done.
 */
export async function syncWithPeer(
  ctx: SyncContext,
  peer: PeerAddress,
  options: SyncOptions = {},
): Promise<SyncOutcome> {
  const buckets = ctx.store.bucketCount;
  const digests = ctx.store.bucketDigests();
  const outcome = emptyOutcome();
  const step = (lo: number, hi: number) =>
    syncStep(
      ctx,
      peer,
      digests.subarray(2 * lo, 2 * hi),
      lo,
      hi,
      options.pushBack ?? true,
      outcome,
      options.only,
    );
  // One request covers everything when little differs; only a large difference is split into
  // ranges fetched in parallel.
  const first = await step(0, buckets);
  const ranges = splitRange(first, buckets, options.ranges ?? 1);
  const worker = async () => {
    for (let range = ranges.shift(); range; range = ranges.shift()) {
      for (let cursor = range[0]; cursor < range[1];) cursor = await step(cursor, range[1]);
    }
  };
  const workers = Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker);
  const results = await Promise.allSettled(workers);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
  return outcome;
}

function splitRange(lo: number, hi: number, parts: number): [number, number][] {
  const n = Math.max(1, Math.min(parts, hi - lo));
  const out: [number, number][] = [];
  for (let r = 0; r < n && lo < hi; r++) {
    out.push([lo + Math.floor((r * (hi - lo)) / n), lo + Math.floor(((r + 1) * (hi - lo)) / n)]);
  }
  return out;
}

// One request for buckets lo..hi-1: applies the answer, pushes back, returns where to go on.
async function syncStep(
  ctx: SyncContext,
  peer: PeerAddress,
  digests: Uint32Array,
  lo: number,
  hi: number,
  pushBack: boolean,
  outcome: SyncOutcome,
  only: Uint8Array | undefined,
): Promise<number> {
  const body = encodeSyncRequest(ctx.codec, {
    from: ctx.name,
    buckets: ctx.store.bucketCount,
    lo,
    hi,
    digests,
    maxBytes: ctx.chunkBytes,
    ...(only ? { only } : {}),
  });
  outcome.requests++;
  const raw = await ctx.transport.request(peer, "sync", body, ctx.timeoutMs);
  const answer = decodeSyncResponse(ctx.codec, raw, lo, hi);
  const [applied, rejected] = applyRecords(ctx, answer.records);
  outcome.buckets += answer.differing.length;
  outcome.received += answer.records.length;
  outcome.applied += applied;
  outcome.rejected += rejected;
  if (pushBack) outcome.pushed += await pushWinners(ctx, peer, answer);
  return answer.next;
}

/**
 * Sends the peer our records of the answer's buckets that it lacks or holds older. A bucket
 * whose digest now equals the peer's (the usual case after applying its records, and always
 * for a node that was empty) has nothing to send and is not even listed.
 */
function pushWinners(
  ctx: SyncContext,
  peer: PeerAddress,
  answer: SyncResponse,
): Promise<number> {
  const ours = ctx.store.bucketDigests();
  const stillDiffering = answer.differing.filter((b, i) =>
    ours[2 * b] !== answer.digests[2 * i] || ours[2 * b + 1] !== answer.digests[2 * i + 1]
  );
  if (stillDiffering.length === 0) return Promise.resolve(0);
  const theirs = new Map(answer.records.map((t) => [t.key, t.version]));
  function* winners(): Generator<KeyedRecord> {
    for (const b of stillDiffering) {
      for (const r of ctx.store.recordsInBucket(b)) {
        const v = theirs.get(r.key);
        if (v === undefined || compareVersions(r.version, v) > 0) yield r;
      }
    }
  }
  return pushRecords(ctx, peer, winners());
}

/**
 * Sends `records` to `peer` as repair batches (`/internal/replicate`) of about
 * `ctx.batchBytes` each, one at a time; resolves with the number sent, rejects with the first
 * failed request.
 */
export async function pushRecords(
  ctx: SyncContext,
  peer: PeerAddress,
  records: Iterable<KeyedRecord>,
): Promise<number> {
  let batch: KeyedRecord[] = [];
  let bytes = 0;
  let pushed = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const body = ctx.codec.encodeRecords(ctx.name, "repair", batch);
    await ctx.transport.request(peer, "replicate", body, ctx.timeoutMs);
    pushed += batch.length;
    batch = [];
    bytes = 0;
  };
  for (const r of records) {
    batch.push(r);
    bytes += recordWireSize(r);
    if (bytes >= ctx.batchBytes) await flush();
  }
  await flush();
  return pushed;
}
