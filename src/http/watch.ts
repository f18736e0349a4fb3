/**
 * `GET /watch?prefix=<p>`: the changes applied on this node from now on to keys starting with
 * `p`, as Server-Sent Events: `event: put|delete|expire` with `data: {"key": "...", "version":
 * "<etag>"}` (the version as `ETag` shows it, so a near cache can compare it with what it holds).
 *
 * Backpressure: each stream has a bounded queue ({@link WatchLimits}: 1,000 events or 1 MiB by
 * default, whichever comes first); a reader that falls that
 * far behind gets `event: overflow` and the stream ends (it must re-read what it caches), so a
 * slow client can never grow the node's memory. When the client goes away the stream is
 * cancelled and the node stops watching. A comment line every `heartbeatMs` keeps proxies from
 * closing an idle stream and lets a dead connection be noticed.
 *
 * Written on a plain `ReadableStream` rather than Hono's `streamSSE`: its writer awaits each
 * write and queues without bound, where this needs a queue that refuses instead.
 *
 * @module
 */

import { type CacheService, type ChangeEvent, etagOf } from "../service/mod.ts";
import { HttpError } from "./errors.ts";
import { queryOf } from "./query.ts";

/** Limits of one watch stream. */
export interface WatchLimits {
  /** Events queued for a reader before it is cut off with `overflow`. @default 1000 */
  maxQueuedEvents?: number;
  /** Bytes queued for a reader before it is cut off with `overflow`. @default 1 MiB */
  maxQueuedBytes?: number;
  /** Interval of the `: keep-alive` comment, ms; 0 = none. @default 15000 */
  heartbeatMs?: number;
}

const utf8 = new TextEncoder();

/** The SSE frame of `event`. */
export function sseFrame(event: ChangeEvent): string {
  const data = JSON.stringify({ key: event.key, version: etagOf(event.version) });
  return `event: ${event.kind}\ndata: ${data}\n\n`;
}

/** `GET /watch`: see the module doc. */
export function watchResponse(
  service: CacheService,
  url: string,
  limits: WatchLimits = {},
): Response {
  const query = queryOf(url);
  const unknown = [...new Set(query.keys())].filter((k) => k !== "prefix");
  if (unknown.length > 0) {
    throw new HttpError(400, `Unknown query parameter ${unknown.join(", ")}: expected prefix`);
  }
  const prefix = query.get("prefix") ?? "";
  const maxEvents = limits.maxQueuedEvents ?? 1000;
  const maxBytes = limits.maxQueuedBytes ?? 1024 * 1024;
  const heartbeatMs = limits.heartbeatMs ?? 15_000;
  // Each queued chunk counts as its bytes but at least maxBytes / maxEvents, so the queue holds
  // at most maxEvents events and at most about maxBytes bytes.
  const size = (chunk: Uint8Array) => Math.max(chunk.byteLength, maxBytes / maxEvents);
  let stop: (() => void) | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const end = () => {
    closed = true;
    stop?.();
    stop = undefined;
    clearInterval(timer);
  };
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(utf8.encode(`: watching ${JSON.stringify(prefix)}\n\n`));
      stop = service.watch(prefix, (event) => {
        if (closed) return;
        const frame = utf8.encode(sseFrame(event));
        // desiredSize: what the queue may still take, in the units of `size` below.
        if ((controller.desiredSize ?? 0) < size(frame)) {
          controller.enqueue(utf8.encode(`event: overflow\ndata: {}\n\n`));
          end();
          controller.close();
          return;
        }
        controller.enqueue(frame);
      }, () => {
        // The node is closing: end the stream (the reader reconnects elsewhere).
        if (closed) return;
        end();
        controller.close();
      });
      if (heartbeatMs > 0) {
        timer = setInterval(() => {
          if (!closed) controller.enqueue(utf8.encode(": keep-alive\n\n"));
        }, heartbeatMs);
      }
    },
    cancel: end,
  }, { highWaterMark: maxBytes, size });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      "x-accel-buffering": "no",
    },
  });
}
