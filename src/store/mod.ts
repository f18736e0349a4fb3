/**
 * The storage engine (placeholder doc, completed after measurement).
 *
 * @module
 */

export { TtlStore } from "./ttl_store.ts";
export { BYTES_VALUE_OVERHEAD_BYTES, ENTRY_OVERHEAD_BYTES, entrySize } from "./entry_size.ts";
export { differingBuckets } from "./differing_buckets.ts";
export type * from "./types.ts";
