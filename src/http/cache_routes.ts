/**
 * The semantics of `/cache/{key}` (GET/HEAD/PUT/DELETE), in one place that the fast path and
 * the Hono routes both call: validation before anything is stored, the answer's headers, and,
 * in partitioned mode, passing the request to the key's owners (`forward.ts`). The owners of a
 * key are looked up once per request and handed down to the node with the write.
 *
 * @module
 */

import type { CacheEntryView, CacheService } from "../service/mod.ts";
import { RequestForwarder } from "./forward.ts";
import { JSON_ENVELOPE_BYTES, readBodyLimited, readPutRequest } from "./put_body.ts";
import { writeOptions } from "./request.ts";

const TEXT = "text/plain; charset=utf-8";
const TEXT_HEADERS = { "content-type": TEXT };

/** The entity tag of a version, as `ETag` shows it. */
export function etag(version: { hlc: number; node: string }): string {
  return `"${version.hlc.toString(36)}-${encodeURIComponent(version.node)}"`;
}

/** The `/cache/{key}` handlers of one service; see the module doc. */
export class CacheRoutes {
  readonly #service: CacheService;
  readonly #forwarder: RequestForwarder | undefined;
  readonly #bodyTimeoutMs: number;

  /** Handlers for `service`; `bodyTimeoutMs` is the PUT body deadline (0 = none). */
  constructor(service: CacheService, bodyTimeoutMs: number) {
    this.#service = service;
    this.#bodyTimeoutMs = bodyTimeoutMs;
    this.#forwarder = service.routing && new RequestForwarder(service.routing);
  }

  /**
   * The answer for `entry` (a miss when undefined). `ETag` and `X-Ttl-Ms` are added when
   * `withMeta` (HEAD, or GET with `X-Cache-Meta: true`): every header beyond content-type has
   * a measurable cost in Deno's Response on a plain hit (see docs/benchmarks.md).
   */
  entryResponse(entry: CacheEntryView | undefined, withMeta: boolean): Response {
    if (entry === undefined) {
      return new Response("Not Found", { status: 404, headers: TEXT_HEADERS });
    }
    const type = typeof entry.value === "string" ? TEXT : "application/octet-stream";
    if (!withMeta) {
      return new Response(entry.value as BodyInit, { headers: { "content-type": type } });
    }
    const headers: Record<string, string> = { "content-type": type, etag: etag(entry.version) };
    if (entry.expiresAt > 0) {
      headers["x-ttl-ms"] = String(Math.max(0, entry.expiresAt - this.#service.now()));
    }
    return new Response(entry.value as BodyInit, { status: 200, headers });
  }

  /** `GET`/`HEAD /cache/{key}`: from this node, or (partitioned mode) from the key's owners. */
  read(req: Request, key: string, withMeta: boolean): Response | Promise<Response> {
    const service = this.#service;
    const forwarder = this.#forwarder;
    const owners = forwarder?.route(req, key);
    if (!owners) return this.entryResponse(service.get(key), withMeta);
    return forwarder!.read(
      req,
      key,
      owners,
      () => service.get(key),
      (entry) => this.entryResponse(entry, withMeta),
    );
  }

  /** Validates and applies `PUT /cache/{key}` (or passes it to the key's owners). */
  async put(req: Request, url: string, key: string): Promise<Response> {
    const service = this.#service;
    const options = writeOptions(req);
    const forwarder = this.#forwarder;
    const owners = forwarder?.route(req, key);
    if (owners && !owners.self) {
      // Validated here first; the same bytes then travel to an owner.
      const limit = service.limits.maxValueBytes + JSON_ENVELOPE_BYTES;
      const body = await readBodyLimited(req, limit, this.#bodyTimeoutMs);
      await readPutRequest(
        new Request(req.url, { method: "PUT", headers: req.headers, body: body as BodyInit }),
        url,
        service.limits,
      );
      return forwarder!.write(req, owners, body);
    }
    const put = await readPutRequest(req, url, service.limits, this.#bodyTimeoutMs);
    await service.set(key, put.value, { ...options, ttlMs: put.ttlMs, owners });
    return new Response("OK", { headers: TEXT_HEADERS });
  }

  /** `DELETE /cache/{key}` (or passes it to the key's owners). */
  async delete(req: Request, key: string): Promise<Response> {
    const options = writeOptions(req);
    const forwarder = this.#forwarder;
    const owners = forwarder?.route(req, key);
    if (owners && !owners.self) return forwarder!.write(req, owners, undefined);
    await this.#service.delete(key, { ...options, owners });
    return new Response("OK", { status: 200, headers: TEXT_HEADERS });
  }
}
