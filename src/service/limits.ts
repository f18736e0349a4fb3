/**
 * The limits of the contract, enforced alike by the API edge and the embedded API: keys and
 * values (the node's `MAX_KEY_BYTES`, `MAX_VALUE_BYTES`), metadata and tags of an entry (stated
 * once, by the replication wire that also refuses them from peers), and listing pages.
 *
 * @module
 */

import { MAX_LIST_LIMIT, MAX_METADATA_BYTES, MAX_TAG_BYTES, MAX_TAGS } from "../replication/mod.ts";
import type { EntryMetadata, SetOptions } from "./contract.ts";
import { InvalidInputError } from "./errors.ts";

export { MAX_LIST_LIMIT, MAX_METADATA_BYTES, MAX_TAG_BYTES, MAX_TAGS };

const utf8 = new TextEncoder();

// UTF-8 takes at most 3 bytes per UTF-16 unit: text that short cannot be over `max`, and is not
// encoded to be counted (every write checks its key and value).
function overBytes(text: string, max: number): number | undefined {
  if (text.length * 3 <= max) return undefined;
  const bytes = utf8.encode(text).byteLength;
  return bytes > max ? bytes : undefined;
}

/** Throws an `InvalidInputError` unless `key` is a key the HTTP API would accept. */
export function checkKey(key: string, maxKeyBytes: number): void {
  if (typeof key !== "string" || key === "") throw new InvalidInputError(400, "Invalid key: empty");
  const bytes = overBytes(key, maxKeyBytes);
  if (bytes !== undefined) {
    throw new InvalidInputError(414, `Key too long: ${bytes} bytes, limit is ${maxKeyBytes}`);
  }
}

/** Throws an `InvalidInputError` unless `value`, `metadata` and `tags` are within limits. */
export function checkEntry(
  value: string | Uint8Array,
  options: SetOptions,
  maxValueBytes: number,
): void {
  const bytes = typeof value === "string"
    ? overBytes(value, maxValueBytes)
    : value.byteLength > maxValueBytes
    ? value.byteLength
    : undefined;
  if (bytes !== undefined) {
    throw new InvalidInputError(413, `Value too large: ${bytes} bytes, limit is ${maxValueBytes}`);
  }
  const { metadata, tags, ttlMs } = options;
  if (ttlMs !== undefined && (!Number.isFinite(ttlMs) || ttlMs < 0)) {
    throw new InvalidInputError(400, `Invalid TTL: must be a number of ms >= 0: got ${ttlMs}`);
  }
  if (metadata !== undefined) checkMetadata(metadata);
  if (tags !== undefined) checkTags(tags);
}

/** Throws an `InvalidInputError` unless `metadata` is a JSON object within its limit. */
export function checkMetadata(metadata: EntryMetadata): void {
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new InvalidInputError(400, "Invalid metadata: must be a JSON object");
  }
  const bytes = utf8.encode(JSON.stringify(metadata)).byteLength;
  if (bytes > MAX_METADATA_BYTES) {
    throw new InvalidInputError(
      413,
      `Metadata too large: ${bytes} bytes as JSON, limit is ${MAX_METADATA_BYTES}`,
    );
  }
}

/** Throws an `InvalidInputError` unless `tags` are within their limits. */
export function checkTags(tags: readonly string[]): void {
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) {
    throw new InvalidInputError(400, `Invalid tags: must be a list of at most ${MAX_TAGS}`);
  }
  for (const tag of tags) {
    const bytes = typeof tag === "string" ? utf8.encode(tag).byteLength : 0;
    if (bytes < 1 || bytes > MAX_TAG_BYTES) {
      throw new InvalidInputError(
        400,
        `Invalid tag ${JSON.stringify(tag)}: must be text of 1..${MAX_TAG_BYTES} bytes`,
      );
    }
  }
}
