/**
 * Hand-off of buckets this node holds but no longer owns (partitioned mode): after a member
 * joins, the buckets it now owns are still held by their former owners. A former owner sends
 * every record of such a bucket to each of its current owners and drops the bucket only once
 * all of them confirmed the batches (so nothing is dropped before its new owners hold it), and
 * only if the bucket did not change meanwhile (a write that arrived during the hand-off is
 * handed off on the next pass). A bucket with an owner out of reach is kept and retried.
 *
 * @module
 */

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

/**
 * Hands off every non-empty bucket of `ctx.store` that `placement` does not give to this node;
 * `peer(name)` finds a live owner's address. `current()` tells whether `placement` is still the
 * node's view (a pass stops when membership changed under it). Updates `stats`.
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
  for (let b = 0; b < placement.buckets; b++) {
    if ((digests[2 * b] | digests[2 * b + 1]) === 0 || placement.owns(ctx.name, b)) continue;
    if (!current()) return;
    const records = ctx.store.recordsInBucket(b);
    const listed = ctx.store.bucketDigests().subarray(2 * b, 2 * b + 2);
    const owners = placement.owners(b).map(peer);
    let delivered = owners.length > 0;
    for (const owner of owners) {
      if (!owner) {
        delivered = false;
        break;
      }
      try {
        await pushRecords(ctx, owner, records);
      } catch {
        delivered = false;
        break;
      }
    }
    const now = ctx.store.bucketDigests();
    if (delivered && current() && now[2 * b] === listed[0] && now[2 * b + 1] === listed[1]) {
      stats.records += records.length;
      stats.buckets++;
      ctx.store.dropBucket(b);
    } else {
      stats.retained++;
    }
  }
}
