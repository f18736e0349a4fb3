/**
 * Requests to the origin: the headers passed on, the deadline on the origin's headers
 * (`EDGE_ORIGIN_TIMEOUT`: 504 past it, 502 when it cannot be reached), and reading a body up to
 * the value limit without losing it when it is larger (the rest is streamed on).
 *
 * @module
 */

import { HOP_BY_HOP } from "./semantics.ts";

/** The origin failed: `status` 502 (unreachable, broken) or 504 (too slow). */
export class OriginError extends Error {
  /** The status the client gets when no stale response may stand in. */
  readonly status: 502 | 504;
  /** @param status 502 or 504 @param message what happened */
  constructor(status: 502 | 504, message: string) {
    super(message);
    this.name = "OriginError";
    this.status = status;
  }
}

/** Request headers never passed to the origin besides hop-by-hop ones. */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, "host", "content-length"]);
/** Further request headers a cached request does not pass on (the edge answers those). */
const NOT_FORWARDED_CACHED = new Set([
  ...NOT_FORWARDED,
  "cookie",
  "authorization",
  "if-none-match",
  "if-modified-since",
  "if-match",
  "if-unmodified-since",
  "if-range",
  "range",
]);

/** The request headers a cached fetch passes on (and a peer forwards to the primary). */
export function forwardedHeaders(headers: Headers, cached: boolean): [string, string][] {
  const skip = cached ? NOT_FORWARDED_CACHED : NOT_FORWARDED;
  const out: [string, string][] = [];
  for (const [name, value] of headers) {
    if (!skip.has(name) && !name.startsWith("x-cache")) out.push([name, value]);
  }
  return out;
}

/** Calls the origin; rejects with an {@link OriginError} (502/504) when it fails. */
export async function callOrigin(
  fetcher: typeof fetch,
  url: string,
  init: RequestInit,
  timeoutMs: number,
): Promise<Response> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const res = await fetcher(url, { ...init, redirect: "manual", signal: controller.signal });
    return asDecoded(res, new Headers(init.headers).get("accept-encoding"));
  } catch (err) {
    if (timedOut) {
      throw new OriginError(504, `Origin did not answer within ${timeoutMs} ms`);
    }
    throw new OriginError(502, `Origin unreachable: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Deno's `fetch` decodes gzip and brotli bodies (unless the request asked for `identity`) but
 * keeps `Content-Encoding` and the encoded `Content-Length` (denoland/deno#35124): passed on as
 * they are, a client would decode plain bytes. The edge therefore stores and serves such bodies
 * decoded, without those two headers.
 */
function asDecoded(res: Response, acceptEncoding: string | null): Response {
  const coding = res.headers.get("content-encoding")?.trim().toLowerCase();
  if (coding !== "gzip" && coding !== "br") return res;
  if (acceptEncoding?.trim().toLowerCase() === "identity") return res;
  const headers = new Headers(res.headers);
  headers.delete("content-encoding");
  headers.delete("content-length");
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
}

/** A body read whole (`body`), or too large and passed on as a stream (`stream`). */
export type LimitedBody = { body: Uint8Array } | { stream: ReadableStream<Uint8Array> };

/** Reads `res`'s body up to `limit` bytes; a larger one comes back as a stream of all of it. */
export async function readUpTo(res: Response, limit: number): Promise<LimitedBody> {
  if (res.body === null) return { body: new Uint8Array(0) };
  const declared = Number(res.headers.get("content-length") ?? "NaN");
  if (declared > limit) return { stream: res.body };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    size += value.length;
    if (size > limit) return { stream: resumed(chunks, reader) };
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return { body };
}

// The chunks read so far, then the rest of `reader`.
function resumed(
  chunks: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  return new ReadableStream({
    async pull(controller) {
      const next = chunks.shift();
      if (next !== undefined) return controller.enqueue(next);
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** A JSON error answer of the edge (`X-Cache` says which path failed). */
export function edgeError(status: number, message: string, xCache: string): Response {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: { "content-type": "application/json", "x-cache": xCache },
  });
}

/** The origin's answer passed on as it is, without hop-by-hop headers, with `X-Cache`. */
export function relayed(res: Response, xCache: string, body?: BodyInit | null): Response {
  const headers = new Headers();
  for (const [name, value] of res.headers) if (!HOP_BY_HOP.has(name)) headers.append(name, value);
  headers.set("x-cache", xCache);
  return new Response(body === undefined ? res.body : body, { status: res.status, headers });
}
