/**
 * The fields a write may carry beside its value, validated alike wherever they come from (a PUT
 * body, its headers, a batch op, a purge): metadata (a JSON object of at most
 * {@link MAX_METADATA_BYTES} serialized, Workers KV's limit) and tags (at most {@link MAX_TAGS},
 * each 1..{@link MAX_TAG_BYTES} bytes without commas, Fastly's surrogate-key limits in spirit). Also the strict
 * check of JSON objects: an unknown field is a 400 that names it, never silently ignored.
 *
 * @module
 */

import { type EntryMetadata, MAX_METADATA_BYTES, MAX_TAG_BYTES, MAX_TAGS } from "../service/mod.ts";
import { HttpError } from "./errors.ts";

export { MAX_METADATA_BYTES, MAX_TAG_BYTES, MAX_TAGS };

const utf8 = new TextEncoder();

/** 400 naming every field of `doc` not in `allowed` (`what` says where, e.g. `PUT body`). */
export function checkFields(
  doc: Record<string, unknown>,
  allowed: readonly string[],
  what: string,
) {
  let clean = true;
  for (const k in doc) if (!allowed.includes(k)) clean = false;
  if (clean) return;
  const unknown = Object.keys(doc).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new HttpError(
      400,
      `Unknown field${unknown.length > 1 ? "s" : ""} ${
        unknown.map((k) => JSON.stringify(k)).join(", ")
      } in ${what}: expected ${allowed.map((k) => JSON.stringify(k)).join(", ")}`,
    );
  }
}

/** `doc` when it is a JSON object, else a 400 (`what` names it). */
export function asObject(doc: unknown, what: string): Record<string, unknown> {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new HttpError(400, `Invalid ${what}: expected a JSON object`);
  }
  return doc as Record<string, unknown>;
}

/** Validated metadata: a JSON object (400) of at most {@link MAX_METADATA_BYTES} (413). */
export function parseMetadata(value: unknown): EntryMetadata {
  const doc = asObject(value, `"metadata"`);
  const bytes = utf8.encode(JSON.stringify(doc)).byteLength;
  if (bytes > MAX_METADATA_BYTES) {
    throw new HttpError(
      413,
      `Metadata too large: ${bytes} bytes as JSON, limit is ${MAX_METADATA_BYTES}`,
    );
  }
  return doc;
}

/** Metadata from the `X-Cache-Metadata` header (JSON), or `undefined` when absent. */
export function metadataFromHeader(header: string | null): EntryMetadata | undefined {
  if (header === null) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(header);
  } catch (e) {
    throw new HttpError(400, `Invalid X-Cache-Metadata: not JSON (${(e as Error).message})`);
  }
  return parseMetadata(doc);
}

/** Validated tags: an array of `max` strings at most, each 1..128 bytes (400). */
export function parseTags(value: unknown, what = `"tags"`, max = MAX_TAGS): string[] {
  if (!Array.isArray(value) || value.some((t) => typeof t !== "string")) {
    throw new HttpError(400, `Invalid ${what}: expected an array of strings`);
  }
  if (value.length > max) {
    throw new HttpError(400, `Too many tags in ${what}: ${value.length}, limit is ${max}`);
  }
  for (const tag of value as string[]) {
    const bytes = utf8.encode(tag).byteLength;
    // No commas: `Cache-Tag: t1,t2` could not carry such a tag.
    if (bytes === 0 || bytes > MAX_TAG_BYTES || tag.includes(",")) {
      throw new HttpError(
        400,
        `Invalid tag ${
          JSON.stringify(tag)
        } in ${what}: expected 1..${MAX_TAG_BYTES} bytes without commas`,
      );
    }
  }
  return value as string[];
}

/** Tags from the `Cache-Tag` header (`t1,t2`, blanks around commas ignored), or `undefined`. */
export function tagsFromHeader(header: string | null): string[] | undefined {
  if (header === null) return undefined;
  return parseTags(header.split(",").map((t) => t.trim()), "Cache-Tag");
}

/** `metadata` as an ASCII header value (JSON with every non-ASCII character `\u`-escaped). */
export function metadataHeader(metadata: EntryMetadata): string {
  return JSON.stringify(metadata).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}
