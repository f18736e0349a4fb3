/**
 * Reading and validating the body of `PUT /cache/{key}`: the size limit while streaming, the
 * content type, and the compat JSON shape `{"value": "...", "duration": "<ns>"}` with the fixes
 * and additions of the API contract (integer `duration`, `ttl` in seconds, raw bodies).
 * Validation happens before anything is stored or replicated.
 *
 * @module
 */

import { readAllLimited } from "../util/read_limited.ts";
import { HttpError } from "./errors.ts";
import { queryOf } from "./query.ts";

/** A validated write: the value and its TTL (`undefined` = the node's default). */
export interface PutRequest {
  /** Text values stay strings; raw `application/octet-stream` bodies are bytes. */
  value: string | Uint8Array;
  /** TTL in ms; `0` = no expiry; `undefined` = the node's default TTL. */
  ttlMs: number | undefined;
}

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
 * it has not fully arrived within `timeoutMs` (0: no deadline).
 */
export async function readBodyLimited(
  req: Request,
  limit: number,
  timeoutMs = 0,
): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    throw new HttpError(413, `Request body too large: ${declared} bytes, limit is ${limit}`);
  }
  if (req.body === null) return new Uint8Array(0);
  // With a declared length the runtime enforces it, so one buffered read is safe and fastest.
  const reading = declared !== null
    ? req.arrayBuffer().then((b) => new Uint8Array(b))
    : readAllLimited(req.body, limit);
  const body = timeoutMs > 0 ? await withinDeadline(reading, timeoutMs) : await reading;
  if (body === undefined) throw new HttpError(413, `Request body too large: over ${limit} bytes`);
  return body;
}

/**
 * `reading`, or a 408 after `timeoutMs`. The abandoned read is not cancelled: Deno.serve keeps
 * the connection either way (until the client sends the rest or goes away), and a cancelled
 * body stream would end as if complete.
 */
async function withinDeadline<T>(reading: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new HttpError(408, `Request body not received within ${timeoutMs} ms (BODY_TIMEOUT)`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([reading, expired]);
  } catch (err) {
    reading.catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function mediaType(req: Request): string {
  const header = req.headers.get("content-type") ?? "";
  return header.split(";", 1)[0].trim().toLowerCase();
}

/** Parses a TTL given in seconds (query `?ttl=` or JSON `ttl`). */
function ttlFromSeconds(seconds: unknown): number {
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

function parseJsonPut(body: Uint8Array, limits: PutLimits): PutRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(utf8.decode(body));
  } catch (e) {
    throw new HttpError(400, `Malformed JSON body: ${(e as Error).message}`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new HttpError(400, `Malformed JSON body: expected an object with a "value" string`);
  }
  const { value, duration, ttl } = doc as Record<string, unknown>;
  if (typeof value !== "string") {
    throw new HttpError(
      400,
      value === undefined || value === null
        ? `Missing "value": expected {"value": "<string>", "duration": "<nanoseconds>"}`
        : `Invalid "value": expected a string, received ${typeof value}`,
    );
  }
  // Strings are counted in UTF-8 bytes; the quick length check avoids encoding short values.
  if (value.length * 3 > limits.maxValueBytes) {
    checkValueSize(new TextEncoder().encode(value).byteLength, limits);
  }
  if (duration !== undefined && duration !== null && ttl !== undefined && ttl !== null) {
    throw new HttpError(400, `Give either "duration" (nanoseconds) or "ttl" (seconds), not both`);
  }
  const ttlMs = duration !== undefined && duration !== null
    ? ttlFromDuration(duration)
    : ttl !== undefined && ttl !== null
    ? ttlFromSeconds(ttl)
    : undefined;
  return { value, ttlMs };
}

/**
 * Validates a PUT request: `application/json` (compat shape), `text/plain` (the body is the
 * value) or `application/octet-stream` (raw bytes); for raw bodies the TTL comes from the `ttl`
 * query parameter in seconds. Throws {@link HttpError} 415/413/400.
 */
export async function readPutRequest(
  req: Request,
  url: URL | string,
  limits: PutLimits,
  bodyTimeoutMs = 0,
): Promise<PutRequest> {
  const type = mediaType(req);
  if (type === "application/json") {
    const body = await readBodyLimited(
      req,
      limits.maxValueBytes + JSON_ENVELOPE_BYTES,
      bodyTimeoutMs,
    );
    return parseJsonPut(body, limits);
  }
  if (type === "text/plain" || type === "application/octet-stream") {
    const body = await readBodyLimited(req, limits.maxValueBytes, bodyTimeoutMs);
    const ttlParam = queryOf(String(url)).get("ttl");
    const ttlMs = ttlParam === null ? undefined : ttlFromSeconds(ttlParam);
    if (type === "application/octet-stream") return { value: body, ttlMs };
    try {
      return { value: utf8.decode(body), ttlMs };
    } catch {
      throw new HttpError(400, "Invalid text/plain body: not valid UTF-8");
    }
  }
  throw new HttpError(
    415,
    `Unsupported Content-Type ${
      JSON.stringify(req.headers.get("content-type") ?? "")
    }: expected application/json, text/plain or application/octet-stream`,
  );
}
