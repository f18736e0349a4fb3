/**
 * Stored responses as the edge reads them: each store value is decoded once per version (kept in
 * a bounded map, so a HIT costs a store lookup and no decoding), a `Vary` descriptor is resolved
 * to the variant's key, and answers are built from the decoded copy: a plain GET HIT is a clone
 * of the answer built for its `Age` (one per entry and second), which costs no header conversion
 * per request (see docs/benchmarks.md, "Edge cache").
 *
 * @module
 */

import type { CacheService } from "../service/mod.ts";
import { decodeRecord, type EdgeRecord, variantKeyOf } from "./record.ts";
import { notModified } from "./semantics.ts";

/** A stored response decoded once, with what each answer reuses. */
export interface Prepared {
  /** The decoded record. */
  record: EdgeRecord;
  /** Its `ETag`, if any. */
  etag: string | null;
  /** Its `Last-Modified`, if any. */
  lastModified: string | null;
  /** The stored headers as a record (a header init converts faster than pairs). */
  init: Record<string, string>;
  /** The last plain GET HIT answer built, for its `Age`: later ones are clones of it. */
  hit?: { age: string; res: Response };
}

// The decoded copies kept: at most this many, of at most this many body bytes.
const DECODED_MAX = 4096;
const DECODED_MAX_BYTES = 64 * 1024 * 1024;

/** `record` with what its answers reuse. */
export function prepare(record: EdgeRecord): Prepared {
  const find = (name: string) => record.headers.find(([n]) => n === name)?.[1] ?? null;
  // Stored headers come from a Headers iteration: one pair per name (Set-Cookie is never stored).
  const init = Object.fromEntries(record.headers);
  return { record, etag: find("etag"), lastModified: find("last-modified"), init };
}

/** The edge's responses in a service's store, decoded once per version. */
export class StoredResponses {
  readonly #service: CacheService;
  readonly #decoded = new Map<string, { hlc: number; node: string; prepared: Prepared }>();
  #decodedBytes = 0;

  /** Responses stored in `service`. */
  constructor(service: CacheService) {
    this.#service = service;
  }

  /** The stored response for a request (a `Vary` descriptor resolved to the variant's key). */
  lookup(base: string, headers: Headers): { key: string; entry?: Prepared } {
    const found = this.load(base);
    if (found === undefined || found.record.status !== 0) return { key: base, entry: found };
    const key = variantKeyOf(base, found.record.vary, headers);
    return { key, entry: this.load(key) };
  }

  /** The response (or descriptor) stored at `key`; `undefined` for a miss or a foreign value. */
  load(key: string): Prepared | undefined {
    const view = this.#service.get(key);
    if (view === undefined || typeof view.value === "string") return undefined;
    const { hlc, node } = view.version;
    const cached = this.#decoded.get(key);
    if (cached !== undefined && cached.hlc === hlc && cached.node === node) return cached.prepared;
    const record = decodeRecord(view.value);
    if (record === undefined) return undefined;
    const prepared = prepare(record);
    // Bounded by count and by bytes: dropped whole when full (misses only cost a decode).
    this.#decodedBytes += record.body.length - (cached?.prepared.record.body.length ?? 0);
    if (this.#decoded.size >= DECODED_MAX || this.#decodedBytes > DECODED_MAX_BYTES) {
      this.#decoded.clear();
      this.#decodedBytes = record.body.length;
    }
    this.#decoded.set(key, { hlc, node, prepared });
    return prepared;
  }
}

/**
 * The answer of a request from a stored response at `now`: `Age`, `X-Cache: xCache`, a 304 when
 * the client's conditional matches, no body for `HEAD`.
 */
export function answerFrom(
  entry: Prepared,
  headers: Headers,
  head: boolean,
  xCache: string,
  now: number,
): Response {
  const r = entry.record;
  const age = String(Math.max(0, Math.floor((now - r.bornAt) / 1000)));
  const ask = headers.has("if-none-match") || headers.has("if-modified-since");
  if (!ask && !head && xCache === "HIT") {
    const hit = entry.hit;
    if (hit !== undefined && hit.age === age) return hit.res.clone();
    const res = build(entry, age, xCache, false);
    entry.hit = { age, res };
    return res.clone();
  }
  if (ask && r.status === 200 && notModified(headers, entry.etag, entry.lastModified)) {
    return new Response(null, { status: 304, headers: { ...entry.init, age, "x-cache": xCache } });
  }
  return build(entry, age, xCache, head);
}

function build(entry: Prepared, age: string, xCache: string, head: boolean): Response {
  const r = entry.record;
  const init: Record<string, string> = { ...entry.init, age, "x-cache": xCache };
  if (head) init["content-length"] = String(r.body.length);
  const empty = head || r.status === 204 || r.status === 304;
  return new Response(empty ? null : r.body as BodyInit, { status: r.status, headers: init });
}

/** A relayed 200 the client already has (its `If-None-Match` / `If-Modified-Since`) → 304. */
export function conditional(res: Response, headers: Headers): Response {
  if (res.status !== 200) return res;
  if (!headers.has("if-none-match") && !headers.has("if-modified-since")) return res;
  if (!notModified(headers, res.headers.get("etag"), res.headers.get("last-modified"))) return res;
  res.body?.cancel();
  return new Response(null, { status: 304, headers: res.headers });
}
