/**
 * Hand-off of buckets between owners (partitioned mode).
 *
 * - {@link handOffBuckets}: after a member joins, the buckets it now owns are still held by their
 *   former owners. A former owner sends the records of every bucket it holds but no longer owns
 *   to each of that bucket's current owners (batched per owner across buckets) and drops a
 *   bucket only once all of its owners confirmed and the bucket did not change meanwhile (a
 *   write that arrived during the hand-off is handed off on the next pass). A bucket with an
 *   owner out of reach is kept and retried.
 * - {@link handOverBeforeLeaving}: a node that stops gracefully first sends each bucket it owns
 *   to the members that will own it once it is gone, so the cluster keeps N copies through a
 *   rolling restart instead of rebuilding them after the departure.
 *
 * @module
 */

import type { KeyedRecord } from "../store/mod.ts";
import { pushRecords, type SyncContext } from "./digest_sync.ts";
import type { Placement } from "./placement.ts";
import type { PeerAddress } from "./transport.ts";

/** Counters of hand-offs. */
export interface HandOffStats {
  /** Hand-off passes run. */
  passes: number;
  /** Buckets handed off and dropped here. */
  buckets: number;
  /** Records sent to new owners. */
  records: number;
  /** Buckets kept because an owner could not be reached or the bucket changed meanwhile. */
  retained: number;
}

// Sends each owner its records; returns the owners that could not be reached or refused.
async function sendToOwners(
  ctx: SyncContext,
  byOwner: Map<string, KeyedRecord[]>,
  peer: (name: string) => PeerAddress | undefined,
  current: () => boolean,
): Promise<Set<string>> {
  const failed = new Set<string>();
  for (const [name, records] of byOwner) {
    const address = peer(name);
    if (!address || !current()) {
      failed.add(name);
      continue;
    }
    try {
      await pushRecords(ctx, address, records);
    } catch {
      failed.add(name);
    }
  }
  return failed;
}

function addFor(byOwner: Map<string, KeyedRecord[]>, owner: string, records: KeyedRecord[]) {
  const list = byOwner.get(owner);
  if (list) { for (const r of records) list.push(r); }
  else byOwner.set(owner, [...records]);
}

/**
 * Hands off every non-empty bucket of `ctx.store` that `placement` does not give to this node;
 * `peer(name)` finds a live owner's address. `current()` tells whether `placement` is still the
 * node's view (nothing is dropped once membership changed under it). Updates `stats`.
 */
export async function handOffBuckets(
  ctx: SyncContext,
  placement: Placement,
  peer: (name: string) => PeerAddress | undefined,
  current: () => boolean,
  stats: HandOffStats,
): Promise<void> {
  stats.passes++;
  const digests = ctx.store.bucketDigests();
  const listed = new Map<number, number>();
  const byOwner = new Map<string, KeyedRecord[]>();
  for (let b = 0; b < placement.buckets; b++) {
    if ((digests[2 * b] | digests[2 * b + 1]) === 0 || placement.owns(ctx.name, b)) continue;
    const records = ctx.store.recordsInBucket(b);
    if (records.length === 0) continue;
    listed.set(b, records.length);
    for (const owner of placement.owners(b)) addFor(byOwner, owner, records);
  }
  if (listed.size === 0) return;
  // Digests as listed (listing reclaims expired records, so this is after it).
  const before = ctx.store.bucketDigests();
  const failed = await sendToOwners(ctx, byOwner, peer, current);
  const after = ctx.store.bucketDigests();
  for (const [b, count] of listed) {
    const delivered = placement.owners(b).every((o) => !failed.has(o));
    const unchanged = after[2 * b] === before[2 * b] && after[2 * b + 1] === before[2 * b + 1];
    if (delivered && unchanged && current()) {
      ctx.store.dropBucket(b);
      stats.buckets++;
      stats.records += count;
    } else {
      stats.retained++;
    }
  }
}

/**
 * Sends the records of each bucket this node owns under `placement` to the members that own it
 * under `without` (the same members minus this node) and do not own it now. Resolves with the
 * number of records sent; owners that cannot be reached are skipped (anti-entropy fills them
 * after the departure).
 */
export async function handOverBeforeLeaving(
  ctx: SyncContext,
  placement: Placement,
  without: Placement,
  peer: (name: string) => PeerAddress | undefined,
): Promise<number> {
  const byOwner = new Map<string, KeyedRecord[]>();
  const digests = ctx.store.bucketDigests();
  for (let b = 0; b < placement.buckets; b++) {
    if ((digests[2 * b] | digests[2 * b + 1]) === 0 || !placement.owns(ctx.name, b)) continue;
    const heirs = without.owners(b).filter((o) => !placement.owns(o, b));
    if (heirs.length === 0) continue;
    const records = ctx.store.recordsInBucket(b);
    for (const heir of heirs) addFor(byOwner, heir, records);
  }
  let sent = 0;
  const failed = await sendToOwners(ctx, byOwner, peer, () => true);
  for (const [name, records] of byOwner) if (!failed.has(name)) sent += records.length;
  return sent;
}
