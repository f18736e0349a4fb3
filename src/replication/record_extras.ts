/**
 * The optional parts of a record on the wire (format 2): its metadata and its tags. Metadata
 * travels as its JSON text rather than as a msgpack map: the 1 KiB limit is a limit on the
 * serialized JSON, which the receiver then checks exactly before parsing anything, and the
 * decoder keeps refusing msgpack maps altogether. Tags travel as an array of strings.
 *
 * Decoding is defensive like the rest of the codec: metadata must be the JSON text of a plain
 * object of at most {@link MAX_METADATA_BYTES} bytes, tags an array of at most {@link MAX_TAGS}
 * strings of 1..{@link MAX_TAG_BYTES} UTF-8 bytes; anything else throws a `TypeError` naming
 * the field.
 *
 * @module
 */

import type { KeyedRecord } from "../store/mod.ts";

/** Largest metadata, as serialized JSON, UTF-8 bytes. */
export const MAX_METADATA_BYTES = 1024;
/** Most tags on one record. */
export const MAX_TAGS = 32;
/** Longest tag, UTF-8 bytes. */
export const MAX_TAG_BYTES = 128;

/** The wire form of a record's extras: metadata JSON text (or nil) and tags (or nil). */
export type ExtrasTuple = [string | null, readonly string[] | null];

const utf8 = new TextEncoder();

/** Whether `record` carries metadata or tags (and so needs wire format 2). */
export function hasExtras(record: Pick<KeyedRecord, "metadata" | "tags">): boolean {
  return record.metadata !== undefined || record.tags !== undefined;
}

/** The wire form of `record`'s extras, or `undefined` when it has none. */
export function encodeExtras(
  record: Pick<KeyedRecord, "metadata" | "tags">,
): ExtrasTuple | undefined {
  if (!hasExtras(record)) return undefined;
  const metadata = record.metadata === undefined ? null : JSON.stringify(record.metadata);
  return [metadata, record.tags ?? null];
}

/**
 * Validates the wire form of extras and sets them on `into`; throws a `TypeError` naming
 * `field` (e.g. `records[3]`) and what was wrong.
 */
export function decodeExtras(
  metadata: unknown,
  tags: unknown,
  field: string,
  what: string,
  into: Pick<KeyedRecord, "metadata" | "tags">,
): void {
  if (metadata !== null && metadata !== undefined) into.metadata = parseMetadata(metadata);
  if (tags !== null && tags !== undefined) into.tags = checkTags(tags);

  function parseMetadata(v: unknown): Record<string, unknown> {
    const bad = (detail: string): never => {
      throw new TypeError(`Cannot decode ${what}: ${field}.metadata ${detail}`);
    };
    if (typeof v !== "string") return bad("must be JSON text");
    if (v.length > MAX_METADATA_BYTES || utf8.encode(v).byteLength > MAX_METADATA_BYTES) {
      return bad(`must be at most ${MAX_METADATA_BYTES} bytes`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      return bad("must be valid JSON");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return bad("must be a JSON object");
    }
    return parsed as Record<string, unknown>;
  }

  function checkTags(v: unknown): string[] {
    if (!Array.isArray(v) || v.length > MAX_TAGS) {
      throw new TypeError(
        `Cannot decode ${what}: ${field}.tags must be an array of at most ${MAX_TAGS} tags`,
      );
    }
    for (let i = 0; i < v.length; i++) {
      const t = v[i];
      if (
        typeof t !== "string" || t === "" ||
        (t.length * 3 > MAX_TAG_BYTES && utf8.encode(t).byteLength > MAX_TAG_BYTES)
      ) {
        throw new TypeError(
          `Cannot decode ${what}: ${field}.tags[${i}] must be text of 1..${MAX_TAG_BYTES} bytes`,
        );
      }
    }
    return v as string[];
  }
}

/** At most the wire bytes of `record`'s extras (for size-bounded messages; cheap). */
export function extrasWireSize(record: Pick<KeyedRecord, "metadata" | "tags">): number {
  let size = record.metadata === undefined ? 0 : MAX_METADATA_BYTES;
  for (const t of record.tags ?? []) size += t.length * 3 + 2;
  return size;
}
