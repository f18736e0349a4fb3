/**
 * The Hono app of the API: the contract's routes (`/cache/{key}` GET/HEAD/PUT/DELETE,
 * `/cache/{key}/incr`, `GET`/`DELETE /cache` (list, flush), `/batch`, `/purge`, `/watch`, the
 * compat `/cache/members`, `/cluster/members`, `/cluster/ring`, `/cluster/topology`, `/stats`,
 * `/healthz`, `/readyz`, `/metrics`, `/openapi.json`, the dashboard) and the internal routes (`internal_routes.ts`).
 * Everything is validated before the {@link CacheService} is called, and failures become statuses
 * in one place (`errors.ts`). With a {@link BearerAuth} (`AUTH_TOKEN`), every route but the
 * health probes, the OpenAPI document and the dashboard page needs the bearer token; a refused
 * request is answered 401 before its body is read. `handler.ts` puts a fast path in front.
 *
 * @module
 */

import { Hono } from "npm:hono@4.13.19";
import type { CacheService, MemberView } from "../service/mod.ts";
import type { StreamLimits } from "./internal_stream.ts";
import type { InFlightLimit } from "./in_flight.ts";
import type { BearerAuth } from "./auth.ts";
import { dashboardHtml, type DashboardState, type NodeDashboardState } from "../dashboard/mod.ts";
import type { NodeMetrics } from "../metrics/mod.ts";
import type { PeerAuth } from "../replication/mod.ts";
import { VERSION } from "../util/version.ts";
import { encodeUint16Base64 } from "../util/base64.ts";
import { OPENAPI_DOCUMENT } from "./openapi.ts";
import { errorResponse, jsonError } from "./errors.ts";
import { CacheRoutes } from "./cache_routes.ts";
import { keyFromUrl, wantsMeta } from "./request.ts";
import { mountInternalRoutes } from "./internal_routes.ts";
import { flush, listKeys, purge } from "./kv_routes.ts";
import { runBatch } from "./batch.ts";
import type { EdgeCache } from "../edge/mod.ts";
import { type WatchLimits, watchResponse } from "./watch.ts";

const ALLOW_KEY = "GET, HEAD, PUT, DELETE";

function notAllowed(method: string, path: string, allow: string): Response {
  return jsonError(405, `Method ${method} not allowed on ${path}`, { allow });
}

function compatMember(m: MemberView) {
  return { name: m.name, addr: `${m.addr}:${m.port}`, port: m.port, http_port: m.httpPort };
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Request metrics and the `/metrics` route. @default none */
  metrics?: NodeMetrics;
  /**
   * Data of the dashboard page (`GET /` and `GET /dashboard/state`): the cluster's, or with
   * `?scope=local` this node's own (what peers merge). @default no dashboard
   */
  dashboard?: (
    scope: "cluster" | "local",
  ) => DashboardState | NodeDashboardState | Promise<DashboardState | NodeDashboardState>;
  /**
   * Called for each request carrying `X-Cachenode-Dashboard` (the page's and the nodes' own
   * gathering for it), so the node leaves them out of its request series. @default none
   */
  onDashboardRequest?: () => void;
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
  /** Queue limits and heartbeat of `GET /watch` streams. @default see `watch.ts` */
  watchLimits?: WatchLimits;
  /**
   * The node's edge cache, while it runs: answers `POST /internal/edge` (a peer's miss, to
   * this node as the key's primary owner). @default none (501)
   */
  edge?: () => EdgeCache | undefined;
}

/** Builds the Hono app for `service`. */
export function createApp(service: CacheService, options: AppOptions = {}): Hono {
  return buildApp(service, options, new CacheRoutes(service, options.bodyTimeoutMs ?? 0));
}

/** {@link createApp} with the key routes the fast path shares (see `handler.ts`). */
export function buildApp(service: CacheService, options: AppOptions, routes: CacheRoutes): Hono {
  const app = new Hono();
  const streams = options.streams ?? new Set<WebSocket>();
  const maxKey = service.limits.maxKeyBytes;
  const auth = options.auth;
  if (auth) {
    // First, so unknown routes answer 401 too (no probing of what exists without the token).
    app.use("*", async (c, next) => {
      const denied = auth.check(c.req.raw);
      if (denied) return denied;
      await next();
      return undefined;
    });
  }

  app.get("/healthz", (c) => c.json({ status: "ok", version: VERSION }));
  app.get("/openapi.json", (c) => c.json(OPENAPI_DOCUMENT));
  const metrics = options.metrics;
  if (metrics) {
    app.get(
      "/metrics",
      () => new Response(metrics.text(), { headers: { "content-type": metrics.contentType } }),
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
    app.get("/dashboard/state", async (c) => {
      const scope = c.req.query("scope") ?? "cluster";
      if (scope !== "cluster" && scope !== "local") {
        return jsonError(400, `Invalid scope: ${scope}: expected cluster or local`);
      }
      c.header("cache-control", "no-store");
      return c.json(await dashboard(scope));
    });
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
  app.get("/cluster/topology", (c) => {
    const t = service.topology?.();
    if (!t) return jsonError(404, "No topology: this service does not offer one");
    return c.json({ ...t, owners: encodeUint16Base64(t.owners) });
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

  app.get("/cache/:key", (c) => {
    const req = c.req.raw;
    return routes.read(req, keyFromUrl(req.url, maxKey), wantsMeta(req), req.method === "HEAD");
  });
  app.put("/cache/:key", (c) => routes.put(c.req.raw, c.req.url, keyFromUrl(c.req.url, maxKey)));
  app.delete("/cache/:key", (c) => routes.delete(c.req.raw, keyFromUrl(c.req.url, maxKey)));
  app.all("/cache/:key", (c) => notAllowed(c.req.method, "/cache/{key}", ALLOW_KEY));
  app.post(
    "/cache/:key/incr",
    (c) => routes.incr(c.req.raw, keyFromUrl(c.req.url, maxKey, "/incr")),
  );
  app.all("/cache/:key/incr", (c) => notAllowed(c.req.method, "/cache/{key}/incr", "POST"));
  app.all("/cache/", () => jsonError(400, "Invalid key: empty"));
  app.get("/cache", (c) => listKeys(service, c.req.url));
  app.delete("/cache", (c) => flush(service, c.req.raw));
  app.all("/cache", () => jsonError(400, "Invalid key: empty"));
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 0;
  app.post("/batch", (c) => runBatch(service, routes, c.req.raw, bodyTimeoutMs));
  app.all("/batch", (c) => notAllowed(c.req.method, "/batch", "POST"));
  app.post("/purge", (c) => purge(service, c.req.raw, bodyTimeoutMs));
  app.all("/purge", (c) => notAllowed(c.req.method, "/purge", "POST"));
  app.get("/watch", (c) => watchResponse(service, c.req.url, options.watchLimits));

  mountInternalRoutes(app, service, {
    peerAuth: options.peerAuth,
    bodyTimeoutMs: options.bodyTimeoutMs,
    streams,
    streamLimits: options.streamLimits,
    edge: options.edge,
  });

  app.notFound((c) => jsonError(404, `No route for ${c.req.method} ${c.req.path}`));
  app.onError(errorResponse);
  return app;
}
