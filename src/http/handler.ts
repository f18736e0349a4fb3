/**
 * The request handler for `Deno.serve`: plain `GET` and `PUT /cache/{key}` (the hot path) are
 * answered directly, everything else (and every edge case of that path) goes through the Hono
 * app. The fast path exists because routing and context setup cost a measurable share of a
 * cache hit (see docs/benchmarks.md); it calls the same {@link CacheRoutes} as the Hono routes,
 * so both answer alike (`handler_test.ts` checks it). Around both: the in-flight cap and the
 * request metrics; before the app: the count of the dashboard's own requests.
 *
 * @module
 */

import type { CacheService } from "../service/mod.ts";
import { DASHBOARD_HEADER } from "../dashboard/mod.ts";
import { routeOf } from "../metrics/mod.ts";
import { type AppOptions, buildApp } from "./app.ts";
import { CacheRoutes } from "./cache_routes.ts";
import { errorResponse } from "./errors.ts";
import { headerOf } from "./header_probe.ts";
import { CACHE_PREFIX, decodeKey } from "./request.ts";

/** A handler for `Deno.serve`. */
export type Handler = (req: Request) => Response | Promise<Response>;

/** Builds the handler of `service`: fast path, Hono app, in-flight cap and metrics. */
export function createHandler(service: CacheService, options: AppOptions = {}): Handler {
  const routes = new CacheRoutes(service, options.bodyTimeoutMs ?? 0);
  const app = buildApp(service, options, routes);
  const fast = fastPath(routes, service.limits.maxKeyBytes, options.auth);
  // The dashboard's requests never take the fast path (they read with X-Cache-Meta, list,
  // delete, or poll /dashboard/state), so telling them apart costs the fast path nothing.
  const onDashboard = options.onDashboardRequest;
  const slow = onDashboard === undefined ? app.fetch : (req: Request) => {
    if (headerOf(req, DASHBOARD_HEADER) !== null) onDashboard();
    return app.fetch(req);
  };
  const handle = (req: Request): Response | Promise<Response> => {
    try {
      // Hono's onError sees only `Error`s: anything else thrown still gets the JSON 500.
      return fast(req) ?? slow(req);
    } catch (err) {
      return errorResponse(err);
    }
  };
  const inFlight = options.inFlight;
  const metrics = options.metrics;
  // One function and at most one promise step per request for the cap, the metrics and the
  // catch-all together (each was its own wrapper and `.then` before; see docs/benchmarks.md).
  const finish = (req: Request, res: Response, started: number, admitted: boolean): Response => {
    if (admitted) inFlight!.release(res);
    if (metrics) {
      const seconds = (performance.now() - started) / 1000;
      metrics.observeRequest(routeOfUrl(req.url), req.method, res.status, seconds);
    }
    return res;
  };
  return (req) => {
    const started = metrics ? performance.now() : 0;
    const busy = inFlight?.admit(req);
    if (busy !== undefined) return finish(req, busy, started, false);
    const admitted = inFlight !== undefined;
    const res = handle(req);
    if (res instanceof Response) return finish(req, res, started, admitted);
    return res.then(
      (r) => finish(req, r, started, admitted),
      (err) => finish(req, errorResponse(err), started, admitted),
    );
  };
}

/** {@link routeOf} of a request URL; a key route is told without copying the path. */
function routeOfUrl(url: string): string {
  const path = url.indexOf("/", url.indexOf("//") + 2);
  let end = url.indexOf("?", path);
  if (end < 0) end = url.length;
  if (url.startsWith(CACHE_PREFIX, path) && end - path !== MEMBERS_PATH.length) {
    return "/cache/{key}";
  }
  return routeOf(url.slice(path, end));
}

const MEMBERS_PATH = "/cache/members";

/**
 * The fast path: answers a plain `GET /cache/{key}` (no `X-Cache-Meta`), a `HEAD` or a
 * `PUT /cache/{key}` whose key is one path segment, else `undefined` (the Hono app answers).
 * Throws what the key routes throw, except for `HEAD`, which it answers as Hono does: the
 * answer of the `GET` (errors included) without its body.
 */
export function fastPath(
  routes: CacheRoutes,
  maxKeyBytes: number,
  auth: AppOptions["auth"],
): (req: Request) => Response | Promise<Response> | undefined {
  const answer = (req: Request, method: string): Response | Promise<Response> | undefined => {
    const isHead = method === "HEAD";
    const isGet = isHead || (method === "GET" && headerOf(req, "x-cache-meta") === null);
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
    // The app checks the token of every other request; here it costs one header read.
    if (auth !== undefined && !auth.accepts(req)) {
      return auth.deny(req.headers.has("authorization"));
    }
    const key = decodeKey(url.slice(start, end), maxKeyBytes);
    // The compat member list shadows the key "members" for GET, however it is spelled.
    if (isGet && key === "members") return undefined;
    return isGet ? routes.read(req, key, isHead, isHead) : routes.put(req, url, key);
  };
  return (req) => {
    const method = req.method;
    if (method !== "HEAD") return answer(req, method);
    let res: Response | Promise<Response> | undefined;
    try {
      res = answer(req, method);
    } catch (err) {
      return withoutBody(errorResponse(err));
    }
    if (res === undefined || res instanceof Response) return res && withoutBody(res);
    return res.then(withoutBody, (err) => withoutBody(errorResponse(err)));
  };
}

/**
 * A `HEAD` answer from the `GET` one, as Hono makes it: same status and headers, no body (one
 * that already has none, as the key routes answer a HEAD, is that already).
 */
function withoutBody(res: Response): Response {
  return res.body === null ? res : new Response(null, res);
}
