/**
 * Byte accounting of the store's budget: key and value bytes plus a fixed per-record overhead
 * measured on this implementation (`scripts/bench/store_bench.ts memory`).
 *
 * @module
 */

import { utf8ByteLength } from "../util/utf8.ts";
import type { StoreValue } from "./types.ts";

/**
 * Bytes a record costs beyond its key's and value's UTF-8 bytes: key index cell, slot arrays and
 * the JS string headers of key and value. It is the per-entry figure of `store_bench.ts memory`
 * at a million entries minus the payload, rounded up; between capacity doublings the real cost
 * runs higher (both in `docs/benchmarks.md`, "Store micro-benchmarks and the eviction choice").
 */
export const ENTRY_OVERHEAD_BYTES = 112;

/**
 * Extra bytes of a `Uint8Array` value over a string value (the view and buffer objects and the
 * off-heap allocation), measured by `store_bench.ts memory-bytes` against `memory`.
 */
export const BYTES_VALUE_OVERHEAD_BYTES = 180;

/** Accounted bytes of a live entry (`value` set) or a tombstone (`value` null). */
export function entrySize(key: string, value: StoreValue | null): number {
  let size = utf8ByteLength(key) + ENTRY_OVERHEAD_BYTES;
  if (typeof value === "string") size += utf8ByteLength(value);
  else if (value !== null) size += value.byteLength + BYTES_VALUE_OVERHEAD_BYTES;
  return size;
}
