/**
 * The cluster-wide routes of the key space: `GET /cache` (listing by prefix with a cursor, as
 * Workers KV's `list`), `POST /purge` (by tags or keys) and `DELETE /cache` (flush, only with
 * `X-Confirm: flush-all` so that a stray `DELETE` on the collection cannot empty a cluster).
 * Input is strict: an unknown query parameter or JSON field is a 400 that names it.
 *
 * @module
 */

import { type CacheService, MAX_LIST_LIMIT, type PurgeRequest } from "../service/mod.ts";
import { asObject, checkFields, parseTags } from "./entry_fields.ts";
import { urlTagOf } from "../edge/mod.ts";
import { HttpError, jsonResponse } from "./errors.ts";
import { readBodyLimited } from "./put_body.ts";
import { queryOf } from "./query.ts";

/** Most keys one page of a listing may ask for (`limit`). */
export { MAX_LIST_LIMIT };
/** Keys of a page when `limit` is not given. */
export const DEFAULT_LIST_LIMIT = 100;
/** Most keys or tags in one `POST /purge`. */
export const MAX_PURGE_ITEMS = 1000;
/** The header and value `DELETE /cache` needs. */
export const FLUSH_CONFIRM = { header: "X-Confirm", value: "flush-all" } as const;

const utf8 = new TextEncoder();

/** `GET /cache?prefix=&limit=&cursor=`: a page of keys, see the module doc. */
export async function listKeys(service: CacheService, url: string): Promise<Response> {
  const query = queryOf(url);
  const unknown = [...new Set(query.keys())].filter((k) =>
    !["prefix", "limit", "cursor"].includes(k)
  );
  if (unknown.length > 0) {
    throw new HttpError(
      400,
      `Unknown query parameter ${unknown.join(", ")}: expected prefix, limit, cursor`,
    );
  }
  const limitParam = query.get("limit");
  let limit = DEFAULT_LIST_LIMIT;
  if (limitParam !== null) {
    limit = /^[0-9]{1,4}$/.test(limitParam) ? Number(limitParam) : NaN;
    if (!(limit >= 1 && limit <= MAX_LIST_LIMIT)) {
      throw new HttpError(
        400,
        `Invalid limit ${JSON.stringify(limitParam)}: expected an integer 1..${MAX_LIST_LIMIT}`,
      );
    }
  }
  const cursor = query.get("cursor");
  const page = await service.list({
    prefix: query.get("prefix") ?? "",
    limit,
    ...(cursor !== null && cursor !== "" ? { cursor } : {}),
  });
  const keys = page.keys.map((k) => {
    const listed: Record<string, unknown> = { name: k.name };
    if (k.expiresAt !== undefined && k.expiresAt > 0) listed.expiration_ms = k.expiresAt;
    if (k.metadata !== undefined) listed.metadata = k.metadata;
    return listed;
  });
  const doc: Record<string, unknown> = { keys, list_complete: page.complete };
  if (!page.complete && page.cursor !== undefined) doc.cursor = page.cursor;
  return jsonResponse(doc);
}

/** Reads a JSON object body of at most `limit` bytes (415 for another type, 400 if malformed). */
export async function readJsonObject(
  req: Request,
  limit: number,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  const type = (req.headers.get("content-type") ?? "").split(";", 1)[0].trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(
      415,
      `Unsupported Content-Type ${
        JSON.stringify(req.headers.get("content-type") ?? "")
      }: expected application/json`,
    );
  }
  const body = await readBodyLimited(req, limit, timeoutMs);
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch (e) {
    throw new HttpError(400, `Malformed JSON body: ${(e as Error).message}`);
  }
  return asObject(doc, "JSON body");
}

/**
 * `POST /purge` with `{"tags": [...]}`, `{"keys": [...]}` and/or `{"urls": [...]}` (every variant
 * the edge cache holds of each URL, absolute or a path with its query) → `{"purged": n}`.
 */
export async function purge(
  service: CacheService,
  req: Request,
  timeoutMs: number,
): Promise<Response> {
  const maxKey = service.limits.maxKeyBytes;
  const doc = await readJsonObject(req, MAX_PURGE_ITEMS * (maxKey + 8) + 64 * 1024, timeoutMs);
  checkFields(doc, ["tags", "keys", "urls"], "the JSON body");
  const request: PurgeRequest = {};
  if (doc.tags !== undefined) request.tags = parseTags(doc.tags, `"tags"`, MAX_PURGE_ITEMS);
  if (doc.keys !== undefined) request.keys = parseKeys(doc.keys, maxKey);
  if (doc.urls !== undefined) {
    request.tags = [...request.tags ?? [], ...parseUrls(doc.urls).map(urlTagOf)];
  }
  if (!request.tags?.length && !request.keys?.length) {
    throw new HttpError(400, `Nothing to purge: give a non-empty "tags", "keys" or "urls" array`);
  }
  return jsonResponse({ purged: await service.purge(request) });
}

function parseUrls(value: unknown): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new HttpError(400, `Invalid "urls": expected an array of strings`);
  }
  if (value.length > MAX_PURGE_ITEMS) {
    throw new HttpError(400, `Too many urls: ${value.length}, limit is ${MAX_PURGE_ITEMS}`);
  }
  for (const url of value as string[]) {
    if (!url.startsWith("/") && !/^https?:\/\/[^/]+/.test(url)) {
      throw new HttpError(
        400,
        `Invalid url ${
          JSON.stringify(url.slice(0, 64))
        } in "urls": expected http(s)://host/path or /path`,
      );
    }
  }
  return value as string[];
}

function parseKeys(value: unknown, maxKey: number): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new HttpError(400, `Invalid "keys": expected an array of strings`);
  }
  if (value.length > MAX_PURGE_ITEMS) {
    throw new HttpError(400, `Too many keys: ${value.length}, limit is ${MAX_PURGE_ITEMS}`);
  }
  for (const key of value as string[]) {
    const bytes = utf8.encode(key).byteLength;
    if (bytes === 0) throw new HttpError(400, `Invalid key in "keys": empty`);
    if (bytes > maxKey) {
      throw new HttpError(414, `Key too long in "keys": ${bytes} bytes, limit is ${maxKey}`);
    }
  }
  return value as string[];
}

/** `DELETE /cache`: flushes the cluster when confirmed (`X-Confirm: flush-all`), else 400. */
export async function flush(service: CacheService, req: Request): Promise<Response> {
  if (req.headers.get(FLUSH_CONFIRM.header) !== FLUSH_CONFIRM.value) {
    throw new HttpError(
      400,
      `Flushing every entry of the cluster needs the header ${FLUSH_CONFIRM.header}: ${FLUSH_CONFIRM.value}`,
    );
  }
  return jsonResponse({ flushed: await service.flush() });
}
