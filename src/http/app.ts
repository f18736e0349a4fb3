/**
 * The HTTP edge: a Hono app serving the API contract (`/cache/{key}` GET/HEAD/PUT/DELETE, the
 * compat `/cache/members`, `/cluster/members`, `/healthz`, `/readyz`) and the node-to-node
 * replication routes (`POST /internal/replicate` and `/internal/sync` with msgpack bodies, and
 * the `GET /internal/stream` WebSocket). It validates everything before calling the
 * {@link CacheService}, maps failures to statuses with JSON errors in one place, and never lets
 * a bad request reach the store. With a {@link BearerAuth} (`AUTH_TOKEN`), every route but the
 * health probes, the OpenAPI document and the dashboard page needs the bearer token; a refused
 * request is answered 401 before its body is read.
 *
 * @module
 */

import { Hono } from "hono";
import {
  type AckRequirement,
  MSGPACK_CONTENT_TYPE,
  parseAckRequirement,
  type PeerAuth,
  SIGNATURE_HEADER,
  SyncNotReadyError,
  WriteAcksError,
} from "../replication/mod.ts";
import { acceptReplicationStream, peerAuthDenied, type StreamLimits } from "./internal_stream.ts";
import type { InFlightLimit } from "./in_flight.ts";
import { type BearerAuth, pathOf } from "./auth.ts";
import { dashboardHtml, type DashboardState } from "../dashboard/mod.ts";
import { type NodeMetrics, routeOf } from "../metrics/mod.ts";
import { OPENAPI_DOCUMENT } from "./openapi.ts";
import { HttpError, JSON_ENVELOPE_BYTES, readBodyLimited, readPutRequest } from "./put_body.ts";
import type { RequestForwarder } from "./forward.ts";

/** A stored value as the HTTP layer sees it. */
export interface CacheEntryView {
  /** Text (served as `text/plain; charset=utf-8`) or bytes (`application/octet-stream`). */
  value: string | Uint8Array;
  /** Absolute expiry in epoch ms; 0 = never. */
  expiresAt: number;
  /** Version of the write (hybrid logical clock + writer's node name). */
  version: { hlc: number; node: string };
}

/** One member of the cluster, as `/cluster/members` shows it. */
export interface MemberView {
  /** Unique member name. */
  name: string;
  /** Gossip IP address. */
  addr: string;
  /** Gossip port. */
  port: number;
  /** HTTP API port, from the member's metadata (0 if unknown). */
  httpPort: number;
  /** Membership state. */
  state: "alive" | "suspect" | "dead" | "left";
  /** The member's incarnation number. */
  incarnation: number;
  /** The member's metadata, parsed as JSON when it is JSON. */
  meta: unknown;
}

/** Options of a delete. */
export interface WriteOptions {
  /** Apply on this node only, do not replicate (`X-Is-Sync: true`). @default false */
  local?: boolean;
  /**
   * Wait until this many replicas (this node included) or all live ones hold the write
   * (`X-Write-Acks`); rejects with a `WriteAcksError` after the node's timeout.
   * @default undefined (return once applied locally and queued for the peers)
   */
  acks?: AckRequirement;
}

/** The node-to-node routes (`POST /internal/replicate`, `POST /internal/sync`). */
export interface ReplicationEndpoints {
  /** Largest body accepted, bytes. */
  readonly maxMessageBytes: number;
  /** Applies a batch of records; throws a `TypeError` for a malformed body. */
  receiveBatch(body: Uint8Array): Uint8Array;
  /** Answers a digest exchange; throws `TypeError` (malformed) or `SyncNotReadyError`. */
  answerSync(body: Uint8Array): Uint8Array;
  /** Answers a read of one key from this node's store; throws `TypeError` if malformed. */
  read(body: Uint8Array): Uint8Array;
}

/** Options of a set. */
export interface SetOptions extends WriteOptions {
  /** TTL in ms; 0 = no expiry. @default the node's default TTL */
  ttlMs?: number;
}

/** What the HTTP layer needs from a cache node. */
export interface CacheService {
  /** Size limits enforced before anything is stored. */
  readonly limits: { maxKeyBytes: number; maxValueBytes: number };
  /** Current time in epoch ms (for remaining TTLs). */
  now(): number;
  /** The live entry for `key`, or `undefined` on a miss or after expiry. */
  get(key: string): CacheEntryView | undefined;
  /** Stores `value` under `key`. */
  set(key: string, value: string | Uint8Array, options?: SetOptions): Promise<void>;
  /** Deletes `key` (idempotent). */
  delete(key: string, options?: WriteOptions): Promise<void>;
  /** Every member this node knows, itself included. */
  members(): MemberView[];
  /** Counters and gauges of the node (store entries, bytes, hits, misses, evictions...). */
  stats(): Record<string, unknown>;
  /** Whether the node is ready to serve, and why not. */
  readiness(): { ready: boolean; reason?: string };
  /** The node-to-node routes, while replication runs. */
  readonly replication?: ReplicationEndpoints;
  /** Partitioned mode: routes key requests to the key's owners. @default every key served here */
  readonly forwarder?: RequestForwarder;
  /** Key placement (`GET /cluster/ring`); `key` adds that key's owners. */
  ring?(key?: string): unknown;
}

const CACHE_PREFIX = "/cache/";
const ALLOW_KEY = "GET, HEAD, PUT, DELETE";
const TEXT = "text/plain; charset=utf-8";
const TEXT_HEADERS = { "content-type": TEXT };
const utf8 = new TextEncoder();

function jsonError(status: number, message: string, headers?: HeadersInit) {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
  });
}

/** Extracts and percent-decodes the key from the raw URL (Hono's decoding hides malformed %). */
function keyFromUrl(url: string, maxKeyBytes: number): string {
  const start = url.indexOf(CACHE_PREFIX, url.indexOf("//") + 2) + CACHE_PREFIX.length;
  let end = url.length;
  const q = url.indexOf("?", start);
  if (q >= 0) end = q;
  const h = url.indexOf("#", start);
  if (h >= 0 && h < end) end = h;
  const raw = url.slice(start, end);
  let key: string;
  try {
    key = raw.includes("%") ? decodeURIComponent(raw) : raw;
  } catch {
    throw new HttpError(400, `Invalid key ${JSON.stringify(raw)}: malformed percent-encoding`);
  }
  if (key === "") throw new HttpError(400, "Invalid key: empty");
  if (key.length > maxKeyBytes || key.length * 3 > maxKeyBytes) {
    const bytes = utf8.encode(key).byteLength;
    if (bytes > maxKeyBytes) {
      throw new HttpError(414, `Key too long: ${bytes} bytes, limit is ${maxKeyBytes}`);
    }
  }
  return key;
}

function isLocal(req: Request): boolean {
  return req.headers.get("x-is-sync") === "true";
}

/** The write options of a PUT or DELETE: `X-Is-Sync` and a validated `X-Write-Acks`. */
function writeOptions(req: Request): WriteOptions {
  const local = isLocal(req);
  const header = req.headers.get("x-write-acks");
  if (header === null) return { local };
  try {
    return { local, acks: parseAckRequirement(header) };
  } catch (err) {
    throw new HttpError(400, (err as Error).message);
  }
}

function etag(version: { hlc: number; node: string }): string {
  return `"${version.hlc.toString(36)}-${encodeURIComponent(version.node)}"`;
}

function compatMember(m: MemberView) {
  return { name: m.name, addr: `${m.addr}:${m.port}`, port: m.port, http_port: m.httpPort };
}

/**
 * The answer to `GET /cache/{key}` (HEAD strips the body). `ETag` and `X-Ttl-Ms` are added when
 * `withMeta` (HEAD, or GET with `X-Cache-Meta: true`): every header beyond content-type costs
 * several microseconds in Deno's Response, a measurable share of a plain hit.
 */
function getEntry(service: CacheService, key: string, withMeta: boolean): Response {
  return entryResponse(service, service.get(key), withMeta);
}

/** The answer for `entry` (a miss when undefined); see {@link getEntry}. */
function entryResponse(
  service: CacheService,
  entry: CacheEntryView | undefined,
  withMeta: boolean,
): Response {
  if (entry === undefined) {
    return new Response("Not Found", { status: 404, headers: TEXT_HEADERS });
  }
  const type = typeof entry.value === "string" ? TEXT : "application/octet-stream";
  if (!withMeta) {
    return new Response(entry.value as BodyInit, { headers: { "content-type": type } });
  }
  const headers: Record<string, string> = { "content-type": type, etag: etag(entry.version) };
  if (entry.expiresAt > 0) {
    headers["x-ttl-ms"] = String(Math.max(0, entry.expiresAt - service.now()));
  }
  return new Response(entry.value as BodyInit, { status: 200, headers });
}

/** `GET`/`HEAD /cache/{key}`: from this node, or (partitioned mode) from the key's owners. */
function readEntry(
  service: CacheService,
  req: Request,
  key: string,
  withMeta: boolean,
): Response | Promise<Response> {
  const forwarder = service.forwarder;
  const owners = forwarder?.route(req, key);
  if (!owners) return getEntry(service, key, withMeta);
  return forwarder!.read(
    key,
    owners,
    () => service.get(key),
    (entry) => entryResponse(service, entry, withMeta),
  );
}

/** Validates and applies `PUT /cache/{key}` (or passes it to the key's owners). */
async function putEntry(
  service: CacheService,
  req: Request,
  url: string,
  key: string,
  bodyTimeoutMs: number,
): Promise<Response> {
  const options = writeOptions(req);
  const forwarder = service.forwarder;
  const owners = forwarder?.route(req, key);
  if (owners && !owners.self) {
    // Validated here first; the same bytes then travel to an owner.
    const limit = service.limits.maxValueBytes + JSON_ENVELOPE_BYTES;
    const body = await readBodyLimited(req, limit, bodyTimeoutMs);
    await readPutRequest(
      new Request(req.url, { method: "PUT", headers: req.headers, body: body as BodyInit }),
      url,
      service.limits,
    );
    return forwarder!.write(req, owners, body);
  }
  const put = await readPutRequest(req, url, service.limits, bodyTimeoutMs);
  await service.set(key, put.value, { ...options, ttlMs: put.ttlMs });
  return new Response("OK", { headers: TEXT_HEADERS });
}

/**
 * `POST /internal/{route}`: a msgpack body from a peer, size-capped, malformed → 400; with a
 * gossip key, signed by a key of the ring (else 401, checked before anything is applied).
 */
async function internalRoute(
  service: CacheService,
  req: Request,
  peerAuth: PeerAuth | undefined,
  bodyTimeoutMs: number,
  handle: (endpoints: ReplicationEndpoints, body: Uint8Array) => Uint8Array,
): Promise<Response> {
  const signature = req.headers.get(SIGNATURE_HEADER);
  // Missing, malformed or stale signatures are refused before the body is read.
  const early = peerAuth?.precheck(signature);
  if (early) return peerAuthDenied(early.reason);
  const endpoints = service.replication;
  if (!endpoints) throw new HttpError(503, "Replication is not running on this node");
  const type = req.headers.get("content-type")?.split(";", 1)[0].trim().toLowerCase();
  if (type !== MSGPACK_CONTENT_TYPE) {
    throw new HttpError(415, `Unsupported Content-Type: expected ${MSGPACK_CONTENT_TYPE}`);
  }
  const body = await readBodyLimited(req, endpoints.maxMessageBytes, bodyTimeoutMs);
  const grant = peerAuth?.verifyRequest(signature, req.method, pathOf(req.url), body);
  if (grant && !grant.ok) return peerAuthDenied(grant.reason);
  let answer: Uint8Array;
  try {
    answer = handle(endpoints, body);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) {
      throw new HttpError(400, err.message);
    }
    throw err;
  }
  const headers: Record<string, string> = { "content-type": MSGPACK_CONTENT_TYPE };
  const answerSignature = grant && peerAuth!.signAnswer(grant, 200, answer);
  if (answerSignature) headers[SIGNATURE_HEADER] = answerSignature;
  return new Response(answer as BodyInit, { headers });
}

/** Maps any failure to its status and a JSON error (the one place that does). */
function errorResponse(err: unknown): Response {
  if (err instanceof HttpError) return jsonError(err.status, err.message);
  if (err instanceof WriteAcksError) {
    // The write stays applied here and keeps replicating; only the confirmation is missing.
    return new Response(
      JSON.stringify({ error: err.message, acks: err.confirmed, required: err.required }),
      { status: 504, headers: { "content-type": "application/json; charset=utf-8" } },
    );
  }
  if (err instanceof SyncNotReadyError) return jsonError(503, err.message);
  // The node rejects an entry larger than the whole memory budget with a RangeError.
  if (err instanceof RangeError) return jsonError(413, err.message);
  return jsonError(500, `Internal error: ${(err as Error)?.message ?? String(err)}`);
}

function wantsMeta(req: Request): boolean {
  return req.method === "HEAD" || req.headers.get("x-cache-meta") === "true";
}

/**
 * The request handler for `Deno.serve`: plain `GET /cache/{key}` (the hot path) is answered
 * directly, everything else (and every edge case of that path) goes through the Hono app. The
 * fast path exists because routing and context setup cost a measurable share of a cache hit
 * (see docs/benchmarks.md); it returns exactly what the Hono route returns.
 */
export function createHandler(
  service: CacheService,
  options: AppOptions = {},
): (req: Request) => Response | Promise<Response> {
  const app = createApp(service, options);
  const maxKey = service.limits.maxKeyBytes;
  const auth = options.auth;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 0;
  const fast = (req: Request): Response | Promise<Response> | undefined => {
    const method = req.method;
    const isGet = method === "GET" && !req.headers.has("x-cache-meta");
    if (!isGet && method !== "PUT") return undefined;
    const url = req.url;
    const path = url.indexOf("/", url.indexOf("//") + 2);
    if (!url.startsWith(CACHE_PREFIX, path)) return undefined;
    const start = path + CACHE_PREFIX.length;
    let end = url.indexOf("?", start);
    if (end < 0) end = url.length;
    const slash = url.indexOf("/", start);
    const hash = url.indexOf("#", start);
    if (end === start || (slash >= 0 && slash < end) || (hash >= 0 && hash < end)) return undefined;
    if (isGet && url.slice(start, end) === "members") return undefined;
    // The app checks the token of every other request; here it costs one header read.
    if (auth !== undefined && !auth.accepts(req)) {
      return auth.deny(req.headers.has("authorization"));
    }
    const key = keyFromUrl(url, maxKey);
    return isGet
      ? readEntry(service, req, key, false)
      : putEntry(service, req, url, key, bodyTimeoutMs);
  };
  const handle = (req: Request): Response | Promise<Response> => {
    try {
      const response = fast(req);
      if (response === undefined) return app.fetch(req);
      return response instanceof Response ? response : response.catch(errorResponse);
    } catch (err) {
      return errorResponse(err);
    }
  };
  const limited = options.inFlight ? options.inFlight.wrap(handle) : handle;
  const metrics = options.metrics;
  if (!metrics) return limited;
  return (req) => {
    const started = performance.now();
    const observe = (res: Response) => {
      const url = req.url;
      const path = url.slice(url.indexOf("/", url.indexOf("//") + 2)).split("?", 1)[0];
      metrics.observeRequest(
        routeOf(path),
        req.method,
        res.status,
        (performance.now() - started) / 1000,
      );
      return res;
    };
    const res = limited(req);
    return res instanceof Response ? observe(res) : res.then(observe);
  };
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Request metrics and the `/metrics` route. @default none */
  metrics?: NodeMetrics;
  /** Data of the dashboard page (`GET /` and `GET /dashboard/state`). @default no dashboard */
  dashboard?: () => Promise<DashboardState>;
  /**
   * Where accepted replication streams (WebSockets) are kept while open, so the node can close
   * them when it stops. @default a set of the app's own
   */
  streams?: Set<WebSocket>;
  /**
   * Bearer-token check of every route but the open ones (`AUTH_TOKEN`); see `auth.ts`.
   * @default none (every route open)
   */
  auth?: BearerAuth;
  /**
   * Signature check of the internal routes with the gossip keyring (`SECRET_KEY`), on top of
   * `auth`; see `replication/peer_auth.ts`. @default none (internal routes unsigned)
   */
  peerAuth?: PeerAuth;
  /**
   * Cap on requests in flight (`MAX_IN_FLIGHT`): beyond it, 503 with `Retry-After`.
   * @default none (no cap)
   */
  inFlight?: InFlightLimit;
  /**
   * Deadline for receiving a request body (`BODY_TIMEOUT`), ms: a body still incomplete then
   * gets 408. @default 0 (no deadline)
   */
  bodyTimeoutMs?: number;
  /**
   * Limits of replication streams (open sockets, unread answers per socket).
   * @default see `internal_stream.ts`
   */
  streamLimits?: StreamLimits;
}

/** Builds the Hono app for `service`. */
export function createApp(service: CacheService, options: AppOptions = {}): Hono {
  const app = new Hono();
  const streams = options.streams ?? new Set<WebSocket>();
  const maxKey = service.limits.maxKeyBytes;
  const auth = options.auth;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 0;
  if (auth) {
    // First, so unknown routes answer 401 too (no probing of what exists without the token).
    app.use("*", async (c, next) => {
      const denied = auth.check(c.req.raw);
      if (denied) return denied;
      await next();
      return undefined;
    });
  }

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/openapi.json", (c) => c.json(OPENAPI_DOCUMENT));
  const metrics = options.metrics;
  if (metrics) {
    app.get(
      "/metrics",
      async () =>
        new Response(await metrics.text(), { headers: { "content-type": metrics.contentType } }),
    );
  }
  const dashboard = options.dashboard;
  if (dashboard) {
    const page = dashboardHtml();
    app.get("/", (c) => {
      const cookie = auth?.dashboardCookie(c.req.raw);
      if (cookie !== undefined) c.header("set-cookie", cookie);
      return c.html(page);
    });
    app.get("/dashboard/state", async (c) => c.json(await dashboard()));
  }
  app.get("/readyz", (c) => {
    const r = service.readiness();
    return c.json(
      r.ready ? { ready: true } : { ready: false, reason: r.reason },
      r.ready ? 200 : 503,
    );
  });
  app.get("/stats", (c) => c.json(service.stats()));
  app.get("/cluster/ring", (c) => {
    const key = c.req.query("key");
    return c.json(service.ring?.(key) ?? { replicas: "all" });
  });
  app.get("/cluster/members", (c) =>
    c.json(
      service.members().map((m) => ({
        name: m.name,
        addr: m.addr,
        port: m.port,
        http_port: m.httpPort,
        state: m.state,
        incarnation: m.incarnation,
        meta: m.meta,
      })),
    ));
  // Compat: this path shadows a key named "members" for GET (PUT/DELETE still reach the key).
  app.get(
    "/cache/members",
    (c) =>
      c.json(
        service.members().filter((m) => m.state === "alive" || m.state === "suspect").map(
          compatMember,
        ),
      ),
  );

  app.get(
    "/cache/:key",
    (c) => readEntry(service, c.req.raw, keyFromUrl(c.req.url, maxKey), wantsMeta(c.req.raw)),
  );
  app.put(
    "/cache/:key",
    (c) => putEntry(service, c.req.raw, c.req.url, keyFromUrl(c.req.url, maxKey), bodyTimeoutMs),
  );
  app.delete("/cache/:key", async (c) => {
    const key = keyFromUrl(c.req.url, maxKey);
    const options = writeOptions(c.req.raw);
    const owners = service.forwarder?.route(c.req.raw, key);
    if (owners && !owners.self) return service.forwarder!.write(c.req.raw, owners, undefined);
    await service.delete(key, options);
    return new Response("OK", { status: 200, headers: TEXT_HEADERS });
  });
  app.all(
    "/cache/:key",
    (c) =>
      jsonError(405, `Method ${c.req.method} not allowed on /cache/{key}`, { allow: ALLOW_KEY }),
  );
  app.all("/cache/", () => jsonError(400, "Invalid key: empty"));
  app.all("/cache", () => jsonError(400, "Invalid key: empty"));

  const peerAuth = options.peerAuth;
  app.post(
    "/internal/replicate",
    (c) =>
      internalRoute(service, c.req.raw, peerAuth, bodyTimeoutMs, (e, body) => e.receiveBatch(body)),
  );
  app.post(
    "/internal/sync",
    (c) =>
      internalRoute(service, c.req.raw, peerAuth, bodyTimeoutMs, (e, body) => e.answerSync(body)),
  );
  app.post(
    "/internal/read",
    (c) => internalRoute(service, c.req.raw, peerAuth, bodyTimeoutMs, (e, body) => e.read(body)),
  );
  app.get("/internal/stream", (c) => {
    const endpoints = service.replication;
    if (!endpoints) throw new HttpError(503, "Replication is not running on this node");
    return acceptReplicationStream(c.req.raw, endpoints, streams, peerAuth, options.streamLimits);
  });

  app.notFound((c) => jsonError(404, `No route for ${c.req.method} ${c.req.path}`));
  app.onError(errorResponse);
  return app;
}
