/**
 * What the `/cache/{key}` routes read from a request before anything else: the key (decoded from
 * the raw URL, with its limits), the write options (`X-Is-Sync`, `X-Write-Acks`, the conditions
 * `If-Match` / `If-None-Match: *`, `X-Cache-Forwarded`) and whether the answer carries metadata.
 * Shared by the fast path and the Hono routes so both parse alike.
 *
 * @module
 */

import { parseAckRequirement } from "../replication/mod.ts";
import { type EntryVersion, parseEtag, type WriteOptions } from "../service/mod.ts";
import { HttpError } from "./errors.ts";
import { headerOf } from "./header_probe.ts";
import { FORWARDED_HEADER } from "./forward.ts";

/** The path prefix of key routes. */
export const CACHE_PREFIX = "/cache/";

const utf8 = new TextEncoder();

/**
 * Extracts and percent-decodes the key from the raw URL (Hono's decoding hides malformed %);
 * 400 for an empty or malformed key, 414 past `maxKeyBytes`.
 */
export function keyFromUrl(url: string, maxKeyBytes: number, suffix = ""): string {
  const start = url.indexOf(CACHE_PREFIX, url.indexOf("//") + 2) + CACHE_PREFIX.length;
  let end = url.length;
  const q = url.indexOf("?", start);
  if (q >= 0) end = q;
  const h = url.indexOf("#", start);
  if (h >= 0 && h < end) end = h;
  // `suffix`: a sub-route of the key (`/incr`), matched by the router, so present.
  return decodeKey(url.slice(start, end - suffix.length), maxKeyBytes);
}

/**
 * The key from its raw (still percent-encoded) path segment, with the checks of
 * {@link keyFromUrl}; for a caller that has already found the segment in the URL.
 */
export function decodeKey(raw: string, maxKeyBytes: number): string {
  let key: string;
  try {
    key = raw.includes("%") ? decodeURIComponent(raw) : raw;
  } catch {
    throw new HttpError(400, `Invalid key ${JSON.stringify(raw)}: malformed percent-encoding`);
  }
  if (key === "") throw new HttpError(400, "Invalid key: empty");
  if (key.length > maxKeyBytes || key.length * 3 > maxKeyBytes) {
    const bytes = utf8.encode(key).byteLength;
    if (bytes > maxKeyBytes) {
      throw new HttpError(414, `Key too long: ${bytes} bytes, limit is ${maxKeyBytes}`);
    }
  }
  return key;
}

/** Keys a PUT may not create: `GET /cache/members` is the compat member list, never the key. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(["members"]);

// Lengths of the reserved keys: most keys are told apart by length alone (every PUT asks).
const RESERVED_LENGTHS = new Set([...RESERVED_KEYS].map((k) => k.length));

/** 400 when `key` is reserved (see {@link RESERVED_KEYS}). */
export function checkWritableKey(key: string): void {
  if (RESERVED_LENGTHS.has(key.length) && RESERVED_KEYS.has(key)) {
    throw new HttpError(
      400,
      `Invalid key ${JSON.stringify(key)}: reserved (GET /cache/${key} is the member list)`,
    );
  }
}

/**
 * The write options of a PUT or DELETE: `X-Is-Sync`, a validated `X-Write-Acks`, the
 * conditions (see {@link conditionsOf}) and whether another node passed the request on.
 */
export function writeOptions(req: Request): HttpWriteOptions {
  const options: HttpWriteOptions = { local: headerOf(req, "x-is-sync") === "true" };
  const acks = headerOf(req, "x-write-acks");
  if (acks !== null) {
    try {
      options.acks = parseAckRequirement(acks);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
  }
  if (headerOf(req, FORWARDED_HEADER) !== null) options.forwarded = true;
  const ifMatch = headerOf(req, "if-match");
  const ifNoneMatch = headerOf(req, "if-none-match");
  if (ifMatch !== null || ifNoneMatch !== null) {
    Object.assign(options, conditionsOf(ifMatch, ifNoneMatch));
  }
  return options;
}

/** Write options as a request gives them: `ifExists` is `If-Match: *` (see `cache_routes.ts`). */
export type HttpWriteOptions = WriteOptions & { ifExists?: true };

/** A version no write ever has: what an `If-Match` tag that is not one of ours asks for. */
const NO_VERSION: EntryVersion = { hlc: -1, node: "" };

/**
 * The conditions of a write: `If-Match: <etag>` → `ifMatch` (a tag that is not one of ours can
 * match no version, so it asks for one no write has and the primary owner answers 412, exactly
 * as for a stale tag), `If-Match: *` → the key must exist (`ifMatch` unset, `ifExists`),
 * `If-None-Match: *` → `ifAbsent`. Several tags, a weak tag on `If-Match`, other
 * `If-None-Match` values on a write, or both headers → 400.
 */
export function conditionsOf(
  ifMatch: string | null,
  ifNoneMatch: string | null,
): Pick<HttpWriteOptions, "ifMatch" | "ifAbsent" | "ifExists"> {
  if (ifMatch !== null && ifNoneMatch !== null) {
    throw new HttpError(400, "Give either If-Match or If-None-Match, not both");
  }
  if (ifNoneMatch !== null) {
    if (ifNoneMatch.trim() !== "*") {
      throw new HttpError(
        400,
        `Invalid If-None-Match ${
          JSON.stringify(ifNoneMatch)
        }: a write accepts only * (create-only)`,
      );
    }
    return { ifAbsent: true };
  }
  const tag = ifMatch!.trim();
  if (tag === "*") return { ifExists: true };
  if (tag === "" || splitTags(tag).length !== 1) {
    throw new HttpError(
      400,
      `Invalid If-Match ${JSON.stringify(ifMatch)}: expected one entity tag`,
    );
  }
  return { ifMatch: parseEtag(tag) ?? NO_VERSION };
}

/** The entity tags of an `If-None-Match`/`If-Match` list (`W/` prefixes kept). */
export function splitTags(header: string): string[] {
  return header.match(/(?:W\/)?"[^"]*"|[^\s,]+/g) ?? [];
}

/**
 * Whether `If-None-Match` (of a GET or HEAD) names the current entity tag `etag`: `*`, or any
 * listed tag equal to it (weak comparison, as RFC 9110 says for `If-None-Match`).
 */
export function noneMatchHits(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  return splitTags(header).some((t) => (t.startsWith("W/") ? t.slice(2) : t) === etag);
}

/** Whether a read answers with `ETag` and `X-Ttl-Ms` (HEAD, or `X-Cache-Meta: true`). */
export function wantsMeta(req: Request): boolean {
  return req.method === "HEAD" || headerOf(req, "x-cache-meta") === "true";
}
