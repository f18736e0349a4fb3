/**
 * Entity tags of versions: `"<hlc in base 36>-<percent-encoded node name>"`, as `ETag` shows a
 * version and `If-Match` names one. Shared by the API edge, the client and embedders.
 *
 * @module
 */

import type { EntryVersion } from "./contract.ts";

/** The entity tag of `version` (with its quotes). */
export function etagOf(version: EntryVersion): string {
  return `"${version.hlc.toString(36)}-${encodeURIComponent(version.node)}"`;
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
