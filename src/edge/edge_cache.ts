/**
 * `EdgeCache`: a caching reverse proxy in front of one origin, sharing one cache across the
 * cluster. `GET`/`HEAD` are answered from the store when fresh (decoded once per version, each
 * HIT a clone of a prebuilt answer: `_stored.ts`); a miss, or a response stale past its `stale-while-revalidate` window, goes to the key's
 * primary owner, which fetches the origin once for every waiter (local and from other nodes:
 * `answerPeer`, behind `POST /internal/edge`), stores the response with `service.set` (so it
 * replicates like any entry) and answers. When the primary cannot be reached, the node fetches
 * the origin itself (README, "Edge cache"). Caching rules: `semantics.ts`; stored form:
 * `record.ts`; origin calls: `_origin.ts`.
 *
 * Over 400 lines: the path of one cached fetch (lookup, primary owner, flight, origin, store) is
 * one piece of logic that must be read in one place.
 *
 * @module
 */

import type { CacheService, PeerAddress } from "../service/mod.ts";
import { MAX_TAG_BYTES, MAX_TAGS } from "../service/mod.ts";
import {
  callOrigin,
  edgeError,
  forwardedHeaders,
  type LimitedBody,
  OriginError,
  readUpTo,
  relayed,
} from "./_origin.ts";
import {
  baseKeyOf,
  type EdgeRecord,
  encodeRecord,
  originTags,
  storedHeaders,
  targetOf,
  urlTagOf,
  variantKeyOf,
} from "./record.ts";
import { bypassReason, type Storability, storability, varyNames } from "./semantics.ts";
import { answerFrom, conditional, prepare, type Prepared, StoredResponses } from "./_stored.ts";

/** Counters of the edge (the `edge` section of the node's stats). */
export interface EdgeStats {
  /** Answered fresh from the cache. */
  hits: number;
  /** Not in the cache here (or stale past its windows): asked of the primary owner. */
  misses: number;
  /** Answered stale (`stale-while-revalidate`, or `stale-if-error` when the origin failed). */
  stale: number;
  /** Stored responses refreshed by a 304 of the origin. */
  revalidated: number;
  /** Passed through uncached (methods, `Authorization`, cookies). */
  bypass: number;
  /** Requests sent to the origin. */
  originRequests: number;
  /** Origin requests that failed (unreachable, too slow, 5xx). */
  originErrors: number;
  /** Requests that waited on an origin fetch already under way instead of making their own. */
  coalescedWaiters: number;
  /** Sum of origin latencies (to the response headers), ms. */
  originLatencyMsSum: number;
  /** Origin latencies summed. */
  originLatencyCount: number;
  /** Misses or stale requests the primary owner could not answer (fetched here instead). */
  primaryFallbacks: number;
}

/** What the edge needs from its node. */
export interface EdgeOptions {
  /** The cache the responses live in (the node). */
  service: CacheService;
  /** The origin, `http(s)://host:port`. */
  origin: string;
  /** Freshness of responses without any, ms (0: not stored). @default 0 */
  defaultTtlMs?: number;
  /** Deadline of the origin's response headers, ms. @default 10 000 */
  originTimeoutMs?: number;
  /** Cookies a cached request may carry. @default none */
  cacheCookies?: readonly string[];
  /** The primary owner of `key`, `undefined` when it is this node. @default this node */
  primaryOf?(key: string): PeerAddress | undefined;
  /**
   * Sends `POST /internal/edge` with `body` to `peer` (token, signature, TLS).
   * @default none (every miss is fetched here)
   */
  askPeer?(peer: PeerAddress, body: Uint8Array): Promise<Response>;
  /** How the origin is called (tests). @default fetch */
  fetch?: typeof fetch;
  /** Told about failures that are answered anyway (a store write refused...). @default none */
  onError?(message: string, err: unknown): void;
}

/** What one origin fetch ends with, for each request that waited on it. */
type Outcome =
  | { kind: "entry"; entry: Prepared; xCache: "MISS" | "REVALIDATED" | "STALE"; from: Headers }
  | { kind: "error"; error: OriginError }
  // Not stored: the first taker gets the origin's response, others fetch for themselves.
  | { kind: "uncached"; take(): Response | undefined };

/** Header a primary sets on its answers to `POST /internal/edge`. */
export const EDGE_ANSWER_HEADER = "x-edge-answer";
const utf8 = new TextEncoder();

/** The edge cache of a node; see the module doc. */
export class EdgeCache {
  /** Counters (shown under `edge` in the node's stats). */
  readonly stats: EdgeStats = {
    hits: 0,
    misses: 0,
    stale: 0,
    revalidated: 0,
    bypass: 0,
    originRequests: 0,
    originErrors: 0,
    coalescedWaiters: 0,
    originLatencyMsSum: 0,
    originLatencyCount: 0,
    primaryFallbacks: 0,
  };
  readonly #o: EdgeOptions;
  readonly #service: CacheService;
  readonly #cookies: ReadonlySet<string>;
  readonly #fetch: typeof fetch;
  readonly #flights = new Map<string, Promise<Outcome>>();
  readonly #refreshing = new Set<string>();
  readonly #stored: StoredResponses;

  /** An edge over `options.service` in front of `options.origin`. */
  constructor(options: EdgeOptions) {
    this.#o = options;
    this.#service = options.service;
    this.#cookies = new Set(options.cacheCookies ?? []);
    this.#fetch = options.fetch ?? fetch;
    this.#stored = new StoredResponses(options.service);
  }

  /**
   * The handler of the edge listener (`Deno.serve`): a fresh HIT is answered at once (no promise
   * step, as the API's fast path), anything else through a promise; never a 500.
   */
  handler(): (req: Request, info?: unknown) => Response | Promise<Response> {
    return (req) => this.#serve(req);
  }

  /**
   * The full cached fetch of `request` (what the edge listener answers, and what a worker's
   * `env.ORIGIN.fetch` calls): `X-Cache` says HIT, MISS, STALE, REVALIDATED or BYPASS.
   */
  async fetch(request: Request): Promise<Response> {
    return await this.#serve(request);
  }

  // The cached answer, failures included (never throws, never rejects).
  #serve(request: Request): Response | Promise<Response> {
    try {
      const answer = this.#cached(request);
      return answer instanceof Promise ? answer.catch((err) => this.#failed(err)) : answer;
    } catch (err) {
      return this.#failed(err);
    }
  }

  #failed(err: unknown): Response {
    if (err instanceof OriginError) return edgeError(err.status, err.message, "MISS");
    this.#o.onError?.("edge request failed", err);
    return edgeError(502, `Edge failed: ${(err as Error).message}`, "MISS");
  }

  #tooLong(base: string): boolean {
    const max = this.#service.limits.maxKeyBytes - 256;
    return base.length * 3 > max && utf8.encode(base).length > max;
  }

  // A fresh HIT (or a STALE within stale-while-revalidate) is answered synchronously; a miss,
  // a stale response past that window, and a bypass return a promise.
  #cached(request: Request): Response | Promise<Response> {
    const target = targetOf(request.url);
    const base = baseKeyOf(target);
    const bypass = bypassReason(request, this.#cookies) ??
      (this.#tooLong(base) ? "URL too long" : undefined);
    if (bypass !== undefined) {
      this.stats.bypass++;
      return this.#passThrough(
        request.method,
        request.headers,
        request.body,
        target,
        "BYPASS",
      );
    }
    const headers = request.headers;
    const head = request.method === "HEAD";
    const { key, entry } = this.#stored.lookup(base, headers);
    if (entry !== undefined) {
      const now = this.#service.now();
      const age = now - entry.record.bornAt;
      if (age < entry.record.freshMs) {
        this.stats.hits++;
        return answerFrom(entry, headers, head, "HIT", now);
      }
      if (age < entry.record.freshMs + entry.record.swrMs) {
        this.stats.stale++;
        this.#refreshSoon(key, base, target, headers);
        return answerFrom(entry, headers, head, "STALE", now);
      }
    }
    this.stats.misses++;
    return this.#viaPrimary(base, target, headers, head).then((res) => conditional(res, headers));
  }

  /**
   * A peer's request (`POST /internal/edge`, JSON `{target, head, headers}`): answered here as
   * the key's primary owner (fetching the origin once for all waiters). Throws a `TypeError`
   * for a malformed body.
   */
  async answerPeer(body: Uint8Array): Promise<Response> {
    let ask: { target?: unknown; head?: unknown; headers?: unknown };
    try {
      ask = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
    } catch (err) {
      throw new TypeError(`Malformed edge request: ${(err as Error).message}`);
    }
    const { target, head, headers } = ask ?? {};
    if (
      typeof target !== "string" || !target.startsWith("/") || typeof head !== "boolean" ||
      !Array.isArray(headers)
    ) throw new TypeError("Malformed edge request: expected {target, head, headers}");
    let reqHeaders: Headers;
    try {
      reqHeaders = new Headers(headers as [string, string][]);
    } catch (err) {
      throw new TypeError(`Malformed edge request headers: ${(err as Error).message}`);
    }
    let res: Response;
    try {
      res = await this.#resolveHere(baseKeyOf(target), target, reqHeaders, head);
    } catch (err) {
      if (!(err instanceof OriginError)) throw err;
      res = edgeError(err.status, err.message, "MISS");
    }
    const out = new Headers(res.headers);
    out.set(EDGE_ANSWER_HEADER, "1");
    return new Response(res.body, { status: res.status, headers: out });
  }

  // A miss here: asked of the key's primary owner, or resolved here when this node is the
  // primary or the primary cannot be reached.
  async #viaPrimary(base: string, target: string, headers: Headers, head: boolean) {
    const primary = this.#o.primaryOf?.(base);
    if (primary !== undefined && this.#o.askPeer) {
      const ask = { target, head, headers: forwardedHeaders(headers, true) };
      try {
        const res = await this.#o.askPeer(primary, utf8.encode(JSON.stringify(ask)));
        if (res.headers.has(EDGE_ANSWER_HEADER)) {
          const out = new Headers(res.headers);
          out.delete(EDGE_ANSWER_HEADER);
          return new Response(head ? null : res.body, { status: res.status, headers: out });
        }
        await res.body?.cancel();
        this.#o.onError?.(
          `edge: primary ${primary.name} answered ${res.status}, fetching here`,
          undefined,
        );
      } catch (err) {
        this.#o.onError?.(`edge: primary ${primary.name} unreachable, fetching here`, err);
      }
      this.stats.primaryFallbacks++;
    }
    return await this.#resolveHere(base, target, headers, head);
  }

  // As the primary: the cache again (another waiter may have filled it), else one origin fetch
  // per key for every waiter.
  async #resolveHere(
    base: string,
    target: string,
    headers: Headers,
    head: boolean,
  ): Promise<Response> {
    const { key, entry } = this.#stored.lookup(base, headers);
    const now = this.#service.now();
    if (entry !== undefined) {
      const age = now - entry.record.bornAt;
      if (age < entry.record.freshMs) return answerFrom(entry, headers, head, "HIT", now);
      if (age < entry.record.freshMs + entry.record.swrMs) {
        this.#refreshSoon(key, base, target, headers);
        return answerFrom(entry, headers, head, "STALE", now);
      }
    }
    const outcome = await this.#flight(key, base, target, headers, entry);
    return this.#answerOutcome(outcome, base, target, headers, head);
  }

  #flight(
    key: string,
    base: string,
    target: string,
    headers: Headers,
    entry: Prepared | undefined,
  ): Promise<Outcome> {
    const current = this.#flights.get(key);
    if (current !== undefined) {
      this.stats.coalescedWaiters++;
      return current;
    }
    const flight = this.#fetchOrigin(key, base, target, headers, entry)
      .catch((error): Outcome => ({ kind: "error", error: asOriginError(error) }))
      .finally(() => this.#flights.delete(key));
    this.#flights.set(key, flight);
    return flight;
  }

  async #answerOutcome(
    outcome: Outcome,
    base: string,
    target: string,
    headers: Headers,
    head: boolean,
  ): Promise<Response> {
    if (outcome.kind === "error") throw outcome.error;
    if (outcome.kind === "uncached") {
      const res = outcome.take();
      if (res !== undefined && head) await res.body?.cancel();
      if (res !== undefined) return head ? new Response(null, res) : res;
      return await this.#passThrough(head ? "HEAD" : "GET", headers, null, target, "MISS");
    }
    const record = outcome.entry.record;
    // A waiter whose request differs in a header the response varies on needs its own variant.
    if (record.vary.some((name) => headers.get(name) !== outcome.from.get(name))) {
      return await this.#resolveHere(base, target, headers, head);
    }
    return answerFrom(outcome.entry, headers, head, outcome.xCache, this.#service.now());
  }

  // One origin fetch: a conditional one when a stale copy has validators.
  async #fetchOrigin(
    key: string,
    base: string,
    target: string,
    headers: Headers,
    stale: Prepared | undefined,
  ): Promise<Outcome> {
    const init = new Headers(forwardedHeaders(headers, true));
    if (stale?.etag) init.set("if-none-match", stale.etag);
    if (stale?.lastModified) init.set("if-modified-since", stale.lastModified);
    const requestTime = this.#service.now();
    const withinSie = () =>
      stale !== undefined &&
      this.#service.now() - stale.record.bornAt < stale.record.freshMs + stale.record.sieMs;
    let res: Response;
    this.stats.originRequests++;
    try {
      res = await callOrigin(this.#fetch, this.#o.origin + target, {
        headers: init,
      }, this.#o.originTimeoutMs ?? 10_000);
    } catch (err) {
      this.stats.originErrors++;
      if (withinSie()) return { kind: "entry", entry: stale!, xCache: "STALE", from: headers };
      throw err;
    }
    const responseTime = this.#service.now();
    this.stats.originLatencyMsSum += responseTime - requestTime;
    this.stats.originLatencyCount++;
    if (res.status >= 500) {
      this.stats.originErrors++;
      if (withinSie()) {
        await res.body?.cancel();
        return { kind: "entry", entry: stale!, xCache: "STALE", from: headers };
      }
    }
    if (res.status === 304 && stale !== undefined) {
      await res.body?.cancel();
      const merged = new Headers(stale.record.headers);
      for (const [name, value] of storedHeaders(res.headers)) merged.set(name, value);
      const facts = { status: stale.record.status, headers: merged, requestTime, responseTime };
      const rule = storability({ ...facts, defaultTtlMs: this.#o.defaultTtlMs ?? 0 });
      if (rule.storable) {
        // The 304's headers (and freshness) update the stored ones; the tags stay the stored
        // response's unless the 304 gives new ones.
        const record = {
          ...stale.record,
          headers: storedHeaders(merged),
          freshMs: rule.freshMs,
          swrMs: rule.staleWhileRevalidateMs,
          sieMs: rule.staleIfErrorMs,
        };
        const entry = await this.#store(key, base, target, record, rule, merged, responseTime);
        this.stats.revalidated++;
        return { kind: "entry", entry, xCache: "REVALIDATED", from: headers };
      }
      return { kind: "entry", entry: stale, xCache: "REVALIDATED", from: headers };
    }
    const rule = storability({
      status: res.status,
      headers: res.headers,
      requestTime,
      responseTime,
      defaultTtlMs: this.#o.defaultTtlMs ?? 0,
    });
    if (!rule.storable) return uncached(relayed(res, "MISS"));
    const read: LimitedBody = await readUpTo(res, this.#service.limits.maxValueBytes - 16 * 1024);
    if ("stream" in read) return uncached(relayed(res, "MISS", read.stream));
    const vary = varyNames(res.headers) as string[];
    const record: EdgeRecord = {
      status: res.status,
      headers: storedHeaders(res.headers),
      bornAt: 0,
      freshMs: rule.freshMs,
      swrMs: rule.staleWhileRevalidateMs,
      sieMs: rule.staleIfErrorMs,
      vary,
      body: read.body,
    };
    const variant = vary.length > 0 ? variantKeyOf(base, vary, headers) : base;
    const entry = await this.#store(variant, base, target, record, rule, res.headers, responseTime);
    return { kind: "entry", entry, xCache: "MISS", from: headers };
  }

  // Stores a response (and, when it varies, the descriptor at the base key) for as long as it
  // may serve: fresh, then stale within its windows, then kept for a revalidation.
  async #store(
    key: string,
    base: string,
    target: string,
    record: EdgeRecord,
    rule: Storability & { storable: true },
    origin: Headers,
    responseTime: number,
  ): Promise<Prepared> {
    record.bornAt = responseTime - rule.initialAgeMs;
    const prepared = prepare(record);
    const validators = prepared.etag !== null || prepared.lastModified !== null;
    const ttlMs = Math.max(1000, rule.freshMs - rule.initialAgeMs) +
      Math.max(rule.staleWhileRevalidateMs, rule.staleIfErrorMs) +
      (validators ? Math.max(60_000, rule.freshMs) : 0);
    const tags = [...originTags(origin, MAX_TAGS - 1, MAX_TAG_BYTES), urlTagOf(target)];
    try {
      if (key !== base) {
        const descriptor = { ...record, status: 0, headers: [], body: new Uint8Array(0) };
        await this.#service.set(base, encodeRecord(descriptor), { ttlMs, tags });
      }
      await this.#service.set(key, encodeRecord(record), { ttlMs, tags });
    } catch (err) {
      this.#o.onError?.("edge: response not stored", err);
    }
    return prepared;
  }

  // SWR: one background refresh per key at a time on this node (the primary coalesces those of
  // all nodes).
  #refreshSoon(key: string, base: string, target: string, headers: Headers): void {
    if (this.#refreshing.has(key)) return;
    this.#refreshing.add(key);
    const primary = this.#o.primaryOf?.(base);
    const done = () => this.#refreshing.delete(key);
    const fresh = new Headers(forwardedHeaders(headers, true));
    if (primary !== undefined && this.#o.askPeer) {
      this.#viaPrimary(base, target, fresh, true).then((r) => r.body?.cancel()).catch(() => {})
        .finally(done);
      return;
    }
    const stale = this.#stored.lookup(base, fresh).entry;
    this.#flight(key, base, target, fresh, stale).then(async (o) => {
      if (o.kind === "uncached") await o.take()?.body?.cancel();
    }).catch(() => {}).finally(done);
  }

  // The origin's answer passed on uncached (a bypass, or a response that cannot be shared).
  async #passThrough(
    method: string,
    headers: Headers,
    body: ReadableStream<Uint8Array> | null,
    target: string,
    xCache: "BYPASS" | "MISS",
  ): Promise<Response> {
    const hasBody = body !== null && method !== "GET" && method !== "HEAD";
    this.stats.originRequests++;
    try {
      const res = await callOrigin(this.#fetch, this.#o.origin + target, {
        method,
        headers: forwardedHeaders(headers, xCache === "MISS"),
        ...(hasBody ? { body } : {}),
      }, this.#o.originTimeoutMs ?? 10_000);
      return relayed(res, xCache);
    } catch (err) {
      this.stats.originErrors++;
      const e = asOriginError(err);
      return edgeError(e.status, e.message, xCache);
    }
  }
}

/** The per-URL tag of every variant of `url` (`POST /purge {"urls": [...]}`). */
export { urlTagOf };

function uncached(res: Response): Outcome {
  let taken = false;
  return {
    kind: "uncached",
    take: () => {
      if (taken) return undefined;
      taken = true;
      return res;
    },
  };
}

function asOriginError(err: unknown): OriginError {
  return err instanceof OriginError ? err : new OriginError(502, `Origin failed: ${String(err)}`);
}
