/**
 * What the `/cache/{key}` routes read from a request before anything else: the key (decoded from
 * the raw URL, with its limits), the write options (`X-Is-Sync`, `X-Write-Acks`) and whether the
 * answer carries metadata. Shared by the fast path and the Hono routes so both parse alike.
 *
 * @module
 */

import { parseAckRequirement } from "../replication/mod.ts";
import type { WriteOptions } from "../service/mod.ts";
import { HttpError } from "./errors.ts";

/** The path prefix of key routes. */
export const CACHE_PREFIX = "/cache/";

const utf8 = new TextEncoder();

/**
 * Extracts and percent-decodes the key from the raw URL (Hono's decoding hides malformed %);
 * 400 for an empty or malformed key, 414 past `maxKeyBytes`.
 */
export function keyFromUrl(url: string, maxKeyBytes: number): string {
  const start = url.indexOf(CACHE_PREFIX, url.indexOf("//") + 2) + CACHE_PREFIX.length;
  let end = url.length;
  const q = url.indexOf("?", start);
  if (q >= 0) end = q;
  const h = url.indexOf("#", start);
  if (h >= 0 && h < end) end = h;
  const raw = url.slice(start, end);
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

/** The write options of a PUT or DELETE: `X-Is-Sync` and a validated `X-Write-Acks`. */
export function writeOptions(req: Request): WriteOptions {
  const local = req.headers.get("x-is-sync") === "true";
  const header = req.headers.get("x-write-acks");
  if (header === null) return { local };
  try {
    return { local, acks: parseAckRequirement(header) };
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

/** Whether a read answers with `ETag` and `X-Ttl-Ms` (HEAD, or `X-Cache-Meta: true`). */
export function wantsMeta(req: Request): boolean {
  return req.method === "HEAD" || req.headers.get("x-cache-meta") === "true";
}
