/**
 * Reading and validating the body of `PUT /cache/{key}`: the size limit while streaming, the
 * content type, and the compat JSON shape `{"value": "...", "duration": "<ns>"}` with the fixes
 * and additions of the API contract (integer `duration`, `ttl` in seconds, raw bodies, base64
 * values, metadata and tags). Strict: an unknown JSON field is a 400 naming it, the `ttl` query
 * parameter means the same for every content type, and a TTL given twice is a 400. Validation
 * happens before anything is stored or replicated.
 *
 * @module
 */

import type { EntryMetadata } from "../service/mod.ts";
import { readAllLimited } from "../util/read_limited.ts";
import {
  asObject,
  checkFields,
  metadataFromHeader,
  parseMetadata,
  parseTags,
  tagsFromHeader,
} from "./entry_fields.ts";
import { BodyDeadline } from "./body_deadline.ts";
import { HttpError } from "./errors.ts";
import { headerOf } from "./header_probe.ts";
import { queryOf } from "./query.ts";

/** A validated write: the value, its TTL (`undefined` = the node's default), metadata, tags. */
export interface PutRequest {
  /** Text values stay strings; raw `application/octet-stream` bodies are bytes. */
  value: string | Uint8Array;
  /** TTL in ms; `0` = no expiry; `undefined` = the node's default TTL. */
  ttlMs: number | undefined;
  /** JSON `metadata`, or the `X-Cache-Metadata` header. @default none */
  metadata?: EntryMetadata;
  /** JSON `tags`, or the `Cache-Tag` header. @default none */
  tags?: string[];
}

/** The fields a JSON PUT body may have. */
export const PUT_FIELDS = ["value", "encoding", "duration", "ttl", "metadata", "tags"] as const;

/** Limits for {@link readPutRequest}. */
export interface PutLimits {
  /** Largest accepted value in bytes. */
  maxValueBytes: number;
}

/** Longest TTL accepted (about 100 years), so expiry times stay exact integers. */
export const MAX_TTL_MS = 100 * 365 * 24 * 3600 * 1000;
/** Extra body bytes allowed over the value limit for the JSON envelope and escapes. */
export const JSON_ENVELOPE_BYTES = 64 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a request body, failing with 413 as soon as it exceeds `limit` bytes, and with 408 when
 * it has not fully arrived within `timeout` (ms, 0: no deadline; or a shared {@link BodyDeadline}).
 */
export async function readBodyLimited(
  req: Request,
  limit: number,
  timeout: number | BodyDeadline = 0,
): Promise<Uint8Array> {
  const declared = headerOf(req, "content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new HttpError(413, `Request body too large: ${declared} bytes, limit is ${limit}`);
  }
  // With a declared length the runtime enforces it, so one buffered read is safe and fastest
  // (`req.body` is not touched: the getter builds a ReadableStream that the read would then go
  // through, a measurable cost per PUT; see docs/benchmarks.md).
  let reading: Promise<Uint8Array | undefined>;
  if (declared !== null) reading = req.bytes();
  else if (req.body === null) return new Uint8Array(0);
  else reading = readAllLimited(req.body, limit);
  const deadline = typeof timeout === "number" ? new BodyDeadline(timeout) : timeout;
  const body = await deadline.within(reading);
  if (body === undefined) throw new HttpError(413, `Request body too large: over ${limit} bytes`);
  return body;
}

function mediaType(req: Request): string {
  const header = headerOf(req, "content-type") ?? "";
  // The common spellings need no copy.
  if (header === "application/json" || header === "text/plain") return header;
  return header.split(";", 1)[0].trim().toLowerCase();
}

/** Parses a TTL given in seconds (query `?ttl=` or JSON `ttl`); 400 when it is not one. */
export function ttlFromSeconds(seconds: unknown): number {
  const n = typeof seconds === "string" && seconds.trim() !== "" ? Number(seconds) : seconds;
  if (typeof n !== "number" || !Number.isFinite(n) || n < 0) {
    throw new HttpError(
      400,
      `Invalid ttl ${JSON.stringify(seconds)}: expected a non-negative number of seconds`,
    );
  }
  return checkTtl(Math.ceil(n * 1000), seconds);
}

/** Parses the compat `duration`: nanoseconds as a decimal string or a JSON integer. */
function ttlFromDuration(duration: unknown): number {
  let ns: bigint;
  if (typeof duration === "string" && /^\d+$/.test(duration.trim())) {
    ns = BigInt(duration.trim());
  } else if (typeof duration === "number" && Number.isInteger(duration) && duration >= 0) {
    ns = BigInt(duration);
  } else {
    throw new HttpError(
      400,
      `Invalid duration ${
        JSON.stringify(duration)
      }: expected non-negative integer nanoseconds, as a string or a number`,
    );
  }
  const ms = (ns + 999_999n) / 1_000_000n; // round up: a 1 ns TTL still lives 1 ms
  return checkTtl(ms > BigInt(MAX_TTL_MS) ? Infinity : Number(ms), duration);
}

function checkTtl(ms: number, given: unknown): number {
  if (ms > MAX_TTL_MS) {
    throw new HttpError(400, `Invalid TTL ${JSON.stringify(given)}: longer than 100 years`);
  }
  return ms;
}

function checkValueSize(bytes: number, limits: PutLimits): void {
  if (bytes > limits.maxValueBytes) {
    throw new HttpError(413, `Value too large: ${bytes} bytes, limit is ${limits.maxValueBytes}`);
  }
}

/** What the URL and headers add to a body: query TTL, `X-Cache-Metadata`, `Cache-Tag`. */
export interface PutExtras {
  ttlMs: number | undefined;
  metadata: EntryMetadata | undefined;
  tags: string[] | undefined;
}

function parseJsonPut(body: Uint8Array, limits: PutLimits, extras: PutExtras): PutRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(body));
  } catch (e) {
    throw new HttpError(400, `Malformed JSON body: ${(e as Error).message}`);
  }
  return putFromJson(parsed, limits, extras);
}

const NO_EXTRAS: PutExtras = Object.freeze({
  ttlMs: undefined,
  metadata: undefined,
  tags: undefined,
});

/**
 * The write a parsed JSON PUT body stands for (`{"value": ..., "ttl": ...}`, see
 * {@link PUT_FIELDS}), checked as {@link readPutRequest} checks it: what `POST /batch` does
 * with a put op's fields, which arrive parsed. Throws {@link HttpError} 400/413.
 */
export function putFromJson(
  parsed: unknown,
  limits: PutLimits,
  extras: PutExtras = NO_EXTRAS,
): PutRequest {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new HttpError(400, `Malformed JSON body: expected an object with a "value" string`);
  }
  const doc = asObject(parsed, "JSON body");
  checkFields(doc, PUT_FIELDS, "the JSON body");
  const { value, encoding, duration, ttl } = doc;
  if (typeof value !== "string") {
    throw new HttpError(
      400,
      value === undefined || value === null
        ? `Missing "value": expected {"value": "<string>", "duration": "<nanoseconds>"}`
        : `Invalid "value": expected a string, received ${typeof value}`,
    );
  }
  let stored: string | Uint8Array = value;
  if (encoding === "base64") {
    stored = decodeBase64(value);
    checkValueSize(stored.byteLength, limits);
  } else if (encoding !== undefined && encoding !== null && encoding !== "utf-8") {
    throw new HttpError(
      400,
      `Invalid "encoding" ${JSON.stringify(encoding)}: expected "utf-8" or "base64"`,
    );
  } else if (value.length * 3 > limits.maxValueBytes) {
    // Strings are counted in UTF-8 bytes; the quick length check avoids encoding short values.
    checkValueSize(new TextEncoder().encode(value).byteLength, limits);
  }
  const hasDuration = duration !== undefined && duration !== null;
  const hasTtl = ttl !== undefined && ttl !== null;
  if (hasDuration && hasTtl) {
    throw new HttpError(400, `Give either "duration" (nanoseconds) or "ttl" (seconds), not both`);
  }
  if ((hasDuration || hasTtl) && extras.ttlMs !== undefined) {
    throw new HttpError(
      400,
      `Give the TTL once: the ttl query parameter or "${hasTtl ? "ttl" : "duration"}", not both`,
    );
  }
  const ttlMs = hasDuration
    ? ttlFromDuration(duration)
    : hasTtl
    ? ttlFromSeconds(ttl)
    : extras.ttlMs;
  const put: PutRequest = { value: stored, ttlMs };
  const metadata = doc.metadata === undefined ? extras.metadata : parseMetadata(doc.metadata);
  if (doc.metadata !== undefined && extras.metadata !== undefined) {
    throw new HttpError(400, `Give metadata once: "metadata" or X-Cache-Metadata, not both`);
  }
  if (doc.tags !== undefined && extras.tags !== undefined) {
    throw new HttpError(400, `Give tags once: "tags" or Cache-Tag, not both`);
  }
  const tags = doc.tags === undefined ? extras.tags : parseTags(doc.tags);
  if (metadata !== undefined) put.metadata = metadata;
  if (tags !== undefined) put.tags = tags;
  return put;
}

function decodeBase64(text: string): Uint8Array {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  } catch {
    throw new HttpError(400, `Invalid "value": not base64 (with "encoding": "base64")`);
  }
}

/**
 * Validates a PUT request: `application/json` (compat shape plus `encoding`, `metadata`,
 * `tags`), `text/plain` (the body is the value) or `application/octet-stream` (raw bytes). The
 * `ttl` query parameter (seconds) applies to every type; raw bodies take metadata from
 * `X-Cache-Metadata` and tags from `Cache-Tag` (JSON bodies too, when they lack the field).
 * Throws {@link HttpError} 415/413/400.
 */
export async function readPutRequest(
  req: Request,
  url: URL | string,
  limits: PutLimits,
  bodyTimeout: number | BodyDeadline = 0,
): Promise<PutRequest> {
  const type = mediaType(req);
  const json = type === "application/json";
  if (!json && type !== "text/plain" && type !== "application/octet-stream") {
    throw new HttpError(
      415,
      `Unsupported Content-Type ${
        JSON.stringify(req.headers.get("content-type") ?? "")
      }: expected application/json, text/plain or application/octet-stream`,
    );
  }
  const href = String(url);
  const ttlParam = href.includes("?") ? queryOf(href).get("ttl") : null;
  const extras: PutExtras = {
    ttlMs: ttlParam === null ? undefined : ttlFromSeconds(ttlParam),
    metadata: metadataFromHeader(headerOf(req, "x-cache-metadata")),
    tags: tagsFromHeader(headerOf(req, "cache-tag")),
  };
  const limit = limits.maxValueBytes + (json ? JSON_ENVELOPE_BYTES : 0);
  const body = await readBodyLimited(req, limit, bodyTimeout);
  if (json) return parseJsonPut(body, limits, extras);
  const put: PutRequest = { value: body, ttlMs: extras.ttlMs };
  if (extras.metadata !== undefined) put.metadata = extras.metadata;
  if (extras.tags !== undefined) put.tags = extras.tags;
  if (type === "text/plain") {
    try {
      put.value = utf8.decode(body);
    } catch {
      throw new HttpError(400, "Invalid text/plain body: not valid UTF-8");
    }
  }
  return put;
}
