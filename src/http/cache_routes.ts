/**
 * The semantics of `/cache/{key}` (GET/HEAD/PUT/DELETE, and `POST /cache/{key}/incr`), in one
 * place that the fast path, the Hono routes and `POST /batch` all call: validation before
 * anything is stored, conditional requests (`If-None-Match` on reads → 304; `If-Match`,
 * `If-None-Match: *` on writes, decided by the key's primary owner → 412), the answer's headers,
 * and, in partitioned mode, passing the request to the key's owners (`forward.ts`). The owners
 * of a key are looked up once per request and handed down to the node with the write.
 *
 * @module
 */

import {
  type CacheEntryView,
  type CacheService,
  etagOf,
  type KeyOwners,
  type SetOptions,
} from "../service/mod.ts";
import { utf8ByteLength } from "../util/utf8.ts";
import { BodyDeadline } from "./body_deadline.ts";
import { asObject, checkFields, metadataHeader } from "./entry_fields.ts";
import { HttpError, jsonResponse } from "./errors.ts";
import { headerOf } from "./header_probe.ts";
import { RequestForwarder } from "./forward.ts";
import {
  JSON_ENVELOPE_BYTES,
  type PutRequest,
  readBodyLimited,
  readPutRequest,
  ttlFromSeconds,
} from "./put_body.ts";
import { checkWritableKey, type HttpWriteOptions, noneMatchHits, writeOptions } from "./request.ts";

const TEXT = "text/plain; charset=utf-8";
const BYTES = "application/octet-stream";
const TEXT_HEADERS = { "content-type": TEXT };
// Frozen and shared: a plain answer allocates no init or header record of its own.
const OK_INIT: ResponseInit = Object.freeze({ headers: Object.freeze({ ...TEXT_HEADERS }) });
const NOT_FOUND = "Not Found";
const NOT_FOUND_INIT: ResponseInit = Object.freeze({
  status: 404,
  headers: Object.freeze({ ...TEXT_HEADERS }),
});
// A HEAD answer declares the length of the body the GET would carry, as the GET does.
const HEAD_NOT_FOUND_INIT: ResponseInit = Object.freeze({
  status: 404,
  headers: Object.freeze({ ...TEXT_HEADERS, "content-length": String(NOT_FOUND.length) }),
});
const TEXT_VALUE_INIT: ResponseInit = OK_INIT;
const BYTES_VALUE_INIT: ResponseInit = Object.freeze({
  headers: Object.freeze({ "content-type": BYTES }),
});
/** Largest body of `POST /cache/{key}/incr`. */
const INCR_BODY_BYTES = 1024;

/** The `/cache/{key}` handlers of one service; see the module doc. */
export class CacheRoutes {
  readonly #service: CacheService;
  readonly #forwarder: RequestForwarder | undefined;
  readonly #bodyDeadline: BodyDeadline;

  /** Handlers for `service`; `bodyTimeoutMs` is the PUT body deadline (0 = none). */
  constructor(service: CacheService, bodyTimeoutMs: number) {
    this.#service = service;
    this.#bodyDeadline = new BodyDeadline(bodyTimeoutMs);
    this.#forwarder = service.routing && new RequestForwarder(service.routing);
  }

  /**
   * The answer for `entry` (a miss when undefined). `ETag` and `X-Ttl-Ms` are added when
   * `withMeta` (HEAD, or GET with `X-Cache-Meta: true`): every header beyond content-type has
   * a measurable cost in Deno's Response on a plain hit (see docs/benchmarks.md). `head`:
   * the same answer without a body, its `Content-Length` that of the GET's body (the server
   * sends none for a HEAD; left to it, a HEAD would declare 0 bytes).
   */
  entryResponse(
    entry: CacheEntryView | undefined,
    withMeta: boolean,
    ifNoneMatch: string | null = null,
    head = false,
  ): Response {
    if (entry === undefined) {
      return head
        ? new Response(null, HEAD_NOT_FOUND_INIT)
        : new Response(NOT_FOUND, NOT_FOUND_INIT);
    }
    if (ifNoneMatch !== null) {
      const tag = etagOf(entry.version);
      if (noneMatchHits(ifNoneMatch, tag)) {
        return new Response(null, { status: 304, headers: { etag: tag } });
      }
    }
    const text = typeof entry.value === "string";
    if (!withMeta && !head) {
      return new Response(entry.value as BodyInit, text ? TEXT_VALUE_INIT : BYTES_VALUE_INIT);
    }
    const type = text ? TEXT : BYTES;
    const headers: Record<string, string> = { "content-type": type };
    if (withMeta) {
      headers.etag = etagOf(entry.version);
      if (entry.expiresAt > 0) {
        headers["x-ttl-ms"] = String(Math.max(0, entry.expiresAt - this.#service.now()));
      }
      if (entry.metadata !== undefined) {
        headers["x-cache-metadata"] = metadataHeader(entry.metadata);
      }
      if (entry.tags !== undefined && entry.tags.length > 0) {
        headers["cache-tag"] = entry.tags.join(",");
      }
    }
    if (!head) return new Response(entry.value as BodyInit, { status: 200, headers });
    headers["content-length"] = String(
      text ? utf8ByteLength(entry.value as string) : (entry.value as Uint8Array).byteLength,
    );
    return new Response(null, { status: 200, headers });
  }

  /**
   * `GET`/`HEAD /cache/{key}`: from this node, or (partitioned mode) from the key's owners;
   * 304 when `If-None-Match` names the current version. `head`: the answer has no body.
   */
  read(req: Request, key: string, withMeta: boolean, head = false): Response | Promise<Response> {
    const service = this.#service;
    const forwarder = this.#forwarder;
    const ifNoneMatch = headerOf(req, "if-none-match");
    const owners = forwarder?.route(req, key);
    if (!owners) return this.entryResponse(service.get(key), withMeta, ifNoneMatch, head);
    return forwarder!.read(
      req,
      key,
      owners,
      () => service.get(key),
      (entry) => this.entryResponse(entry, withMeta, ifNoneMatch, head),
    );
  }

  /**
   * `If-Match: *`: the key must hold a live entry here, and the write is then conditional on
   * the version seen (so it still fails if the key changes meanwhile); else 412.
   */
  #resolveExists(key: string, options: HttpWriteOptions): HttpWriteOptions {
    if (!options.ifExists) return options;
    const { ifExists: _, ...rest } = options;
    const current = this.#service.get(key);
    if (current === undefined) {
      throw new HttpError(
        412,
        `Precondition failed: If-Match: * but ${JSON.stringify(key)} is missing`,
      );
    }
    return { ...rest, ifMatch: current.version };
  }

  /** Validates and applies `PUT /cache/{key}` (or passes it to the key's owners). */
  async put(req: Request, url: string, key: string): Promise<Response> {
    checkWritableKey(key);
    const service = this.#service;
    const options = writeOptions(req);
    const forwarder = this.#forwarder;
    const owners = forwarder?.route(req, key);
    if (owners && !owners.self) {
      // Validated here first; the same bytes then travel to an owner.
      const limit = service.limits.maxValueBytes + JSON_ENVELOPE_BYTES;
      const body = await readBodyLimited(req, limit, this.#bodyDeadline);
      await readPutRequest(
        new Request(req.url, { method: "PUT", headers: req.headers, body: body as BodyInit }),
        url,
        service.limits,
      );
      return forwarder!.write(req, owners, body);
    }
    const put = await readPutRequest(req, url, service.limits, this.#bodyDeadline);
    await this.store(key, put, options, owners);
    return new Response("OK", OK_INIT);
  }

  /**
   * Applies a validated write of `key` on this node (as the owner, in partitioned mode, when
   * `owners` says so): what {@link put} does once the body is read, and what `POST /batch` does
   * with a put op. `options` must be the write's own object: it is filled in place.
   */
  async store(
    key: string,
    put: PutRequest,
    options: HttpWriteOptions,
    owners?: KeyOwners,
  ): Promise<void> {
    const setOptions: SetOptions = this.#resolveExists(key, options);
    setOptions.ttlMs = put.ttlMs;
    if (put.metadata !== undefined) setOptions.metadata = put.metadata;
    if (put.tags !== undefined) setOptions.tags = put.tags;
    if (owners !== undefined) setOptions.owners = owners;
    await this.#service.set(key, put.value, setOptions);
  }

  /** `DELETE /cache/{key}` (or passes it to the key's owners). */
  async delete(req: Request, key: string): Promise<Response> {
    const options = writeOptions(req);
    const forwarder = this.#forwarder;
    const owners = forwarder?.route(req, key);
    if (owners && !owners.self) return forwarder!.write(req, owners, undefined);
    await this.#service.delete(key, { ...this.#resolveExists(key, options), owners });
    return new Response("OK", { status: 200, headers: TEXT_HEADERS });
  }

  /**
   * `POST /cache/{key}/incr` with an optional JSON body `{"by": <integer>, "ttl": <seconds>}`:
   * the service decides on the key's primary owner (so it is never forwarded from here).
   */
  async incr(req: Request, key: string): Promise<Response> {
    checkWritableKey(key);
    const { acks, forwarded } = writeOptions(req);
    const body = await readBodyLimited(req, INCR_BODY_BYTES, this.#bodyDeadline);
    let by = 1;
    let ttlMs: number | undefined;
    if (body.byteLength > 0) {
      const type = (req.headers.get("content-type") ?? "").split(";", 1)[0].trim().toLowerCase();
      if (type !== "application/json") {
        throw new HttpError(
          415,
          `Unsupported Content-Type ${JSON.stringify(type)}: expected application/json`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(new TextDecoder().decode(body));
      } catch (e) {
        throw new HttpError(400, `Malformed JSON body: ${(e as Error).message}`);
      }
      const doc = asObject(parsed, "JSON body");
      checkFields(doc, ["by", "ttl"], "the JSON body");
      if (doc.by !== undefined) {
        if (typeof doc.by !== "number" || !Number.isSafeInteger(doc.by)) {
          throw new HttpError(
            400,
            `Invalid "by" ${JSON.stringify(doc.by)}: expected a safe integer`,
          );
        }
        by = doc.by;
      }
      if (doc.ttl !== undefined) ttlMs = ttlFromSeconds(doc.ttl);
    }
    const value = await this.#service.incr(key, { by, ttlMs, acks, forwarded });
    return jsonResponse({ value });
  }
}
