/**
 * How an edge response is kept in the store: one byte value per cache key (`edge:` + path and
 * query, plus the request's values of the `Vary` headers for a variant) holding the status, the
 * stored headers, the freshness data and the body, so it replicates, expires and purges like any
 * entry. A key whose response varies holds a small *descriptor* instead (the `Vary` names), and
 * each variant lives under its own key. Also: the per-URL tag that purge by URL uses.
 *
 * Layout: 4-byte big-endian length of a JSON header, the JSON header, the body.
 *
 * @module
 */

import { hashLane1, hashLane2 } from "../util/hash.ts";
import { HOP_BY_HOP } from "./semantics.ts";

/** Prefix of every edge key in the store (a reserved namespace of the key space). */
export const EDGE_KEY_PREFIX = "edge:";
/** Prefix of the internal per-URL tag of every variant of a URL. */
export const URL_TAG_PREFIX = "edge-url:";

/** A stored response (or, with `status` 0, a descriptor naming the `Vary` headers). */
export interface EdgeRecord {
  /** The origin's status; 0 for a descriptor. */
  status: number;
  /** Stored headers, names in lower case (no hop-by-hop, `Age`, `Set-Cookie`, length). */
  headers: [string, string][];
  /** When the response's age was 0, epoch ms (response time − its initial age). */
  bornAt: number;
  /** Freshness lifetime, ms. */
  freshMs: number;
  /** `stale-while-revalidate` window, ms. */
  swrMs: number;
  /** `stale-if-error` window, ms. */
  sieMs: number;
  /** The request headers the response varies on (lower case, sorted). */
  vary: string[];
  /** The body. */
  body: Uint8Array;
}

const utf8 = new TextEncoder();
const NOT_STORED = new Set([...HOP_BY_HOP, "age", "set-cookie", "content-length", "x-cache"]);

/** The headers of `headers` a cache keeps (see {@link EdgeRecord.headers}). */
export function storedHeaders(headers: Headers): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of headers) if (!NOT_STORED.has(name)) out.push([name, value]);
  return out;
}

/** The store value of `record`. */
export function encodeRecord(record: EdgeRecord): Uint8Array {
  const { body, ...head } = record;
  const json = utf8.encode(JSON.stringify(head));
  const out = new Uint8Array(4 + json.length + body.length);
  new DataView(out.buffer).setUint32(0, json.length);
  out.set(json, 4);
  out.set(body, 4 + json.length);
  return out;
}

/** The record in a store value; `undefined` when it is not one (a foreign value at the key). */
export function decodeRecord(bytes: Uint8Array): EdgeRecord | undefined {
  if (bytes.length < 4) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.length).getUint32(0);
  if (4 + length > bytes.length) return undefined;
  try {
    const head = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + length)));
    if (
      typeof head !== "object" || head === null || typeof head.status !== "number" ||
      !Array.isArray(head.headers) || !Array.isArray(head.vary) || typeof head.bornAt !== "number"
    ) return undefined;
    return { ...head, body: bytes.subarray(4 + length) } as EdgeRecord;
  } catch {
    return undefined;
  }
}

/** The path and query of a URL (what the cache key and the origin request use). */
export function targetOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const hash = url.indexOf("#", start);
  return hash < 0 ? url.slice(start) : url.slice(start, hash);
}

/** The store key of the response to `target` (before `Vary`). */
export function baseKeyOf(target: string): string {
  return EDGE_KEY_PREFIX + target;
}

/** The store key of the variant of `base` for the request's values of the `vary` headers. */
export function variantKeyOf(base: string, vary: readonly string[], request: Headers): string {
  return base + "\n" + JSON.stringify(vary.map((name) => request.get(name)));
}

/**
 * The internal tag of every variant of the URL `url` (absolute, or a path with its query): what
 * `POST /purge {"urls": [...]}` purges. A 64-bit hash, so the tag fits the tag limits.
 */
export function urlTagOf(url: string): string {
  const target = url.startsWith("/") ? url : targetOf(url);
  const hex = (n: number) => (n >>> 0).toString(16).padStart(8, "0");
  return URL_TAG_PREFIX + hex(hashLane1(target)) + hex(hashLane2(target));
}

/**
 * The tags an origin response sets (`Cache-Tag`, else `Surrogate-Key`; comma or space
 * separated), those within the tag limits, at most `max`.
 */
export function originTags(headers: Headers, max: number, maxTagBytes: number): string[] {
  const header = headers.get("cache-tag") ?? headers.get("surrogate-key");
  if (header === null) return [];
  const tags = header.split(/[\s,]+/).filter((t) => {
    const n = utf8.encode(t).length;
    return n >= 1 && n <= maxTagBytes;
  });
  return [...new Set(tags)].slice(0, max);
}
