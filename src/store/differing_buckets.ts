/**
 * Comparison of two stores' bucket digests, for anti-entropy.
 *
 * @module
 */

/**
 * Indices of the buckets whose digests differ between two `TtlStore.bucketDigests()` results
 * (two lanes per bucket). Throws a `RangeError` if the bucket counts differ.
 */
export function differingBuckets(a: Uint32Array, b: Uint32Array): number[] {
  if (a.length !== b.length) {
    throw new RangeError(
      `Cannot compare digests: bucket counts differ: received ${a.length / 2} and ${b.length / 2}`,
    );
  }
  const out: number[] = [];
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] !== b[i] || a[i + 1] !== b[i + 1]) out.push(i / 2);
  }
  return out;
}
