/**
 * Entity tags of versions: `"<hlc in base 36>-<percent-encoded node name>"`, as `ETag` shows a
 * version and `If-Match` names one. Shared by the API edge, the client and embedders.
 *
 * @module
 */

import type { EntryVersion } from "./contract.ts";

// Node names, percent-encoded: a cluster has few, and every HEAD and conditional read asks.
const encodedNames = new Map<string, string>();

/** The entity tag of `version` (with its quotes). */
export function etagOf(version: EntryVersion): string {
  let node = encodedNames.get(version.node);
  if (node === undefined) {
    node = encodeURIComponent(version.node);
    if (encodedNames.size < 1024) encodedNames.set(version.node, node);
  }
  return `"${base36(version.hlc)}-${node}"`;
}

// 36^5: both halves of a version's HLC (a safe integer) below it are small integers, whose
// base-36 digits V8 writes faster than those of the whole number (every HEAD and conditional
// read makes a tag; measured in docs/benchmarks.md, "HTTP hot path", third round).
const HALF = 60_466_176;

/** `n.toString(36)` for a non-negative safe integer `n`. */
export function base36(n: number): string {
  const low = n % HALF;
  const high = (n - low) / HALF;
  const digits = low.toString(36);
  return high === 0 ? digits : high.toString(36) + "00000".slice(digits.length) + digits;
}

/** The version an entity tag names, or `undefined` when it is not one of ours (a weak tag too). */
export function parseEtag(tag: string): EntryVersion | undefined {
  const m = /^"([0-9a-z]+)-([^"]+)"$/.exec(tag.trim());
  if (!m) return undefined;
  const hlc = parseInt(m[1], 36);
  if (!Number.isSafeInteger(hlc)) return undefined;
  try {
    return { hlc, node: decodeURIComponent(m[2]) };
  } catch {
    return undefined;
  }
}
