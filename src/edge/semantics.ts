/**
 * The HTTP caching rules of the edge, as pure functions of headers and times (RFC 9111 for a
 * shared cache, RFC 5861 for `stale-while-revalidate` and `stale-if-error`): what may be stored,
 * for how long it is fresh, how long it may be served stale, which requests bypass the cache,
 * and whether a client's conditional request is satisfied. Kept apart from the listener so every
 * rule is tested on plain values (`semantics_test.ts`).
 *
 * @module
 */

/** Directives of a `Cache-Control` header: name (lower case) → argument (`true` without one). */
export type Directives = ReadonlyMap<string, string | true>;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const EMPTY: Directives = new Map();

/**
 * Parses `Cache-Control`; a malformed header (a part that is not `token[=token|"quoted"]`) is
 * treated as absent (an empty map), as the issue asks, so a broken origin header never makes a
 * response cacheable by accident nor fails the request.
 */
export function parseCacheControl(header: string | null): Directives {
  if (header === null || header.trim() === "") return EMPTY;
  const out = new Map<string, string | true>();
  // Commas inside quoted arguments (no-cache="a,b") are not separators.
  const parts = header.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
  for (const raw of parts) {
    const part = raw.trim();
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    if (!TOKEN.test(name)) return EMPTY;
    if (eq < 0) {
      out.set(name, true);
      continue;
    }
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"')) {
      if (value.length < 2 || !value.endsWith('"')) return EMPTY;
      value = value.slice(1, -1).replace(/\\(.)/g, "$1");
    } else if (!TOKEN.test(value)) return EMPTY;
    out.set(name, value);
  }
  return out;
}

/** A delta-seconds argument in ms; `undefined` when absent or not a non-negative integer. */
export function secondsOf(directives: Directives, name: string): number | undefined {
  const v = directives.get(name);
  if (typeof v !== "string" || !/^\d{1,10}$/.test(v)) return undefined;
  return Number(v) * 1000;
}

/** Statuses a shared cache may store without explicit freshness (RFC 9110 §15.1). */
const HEURISTIC_STATUSES: ReadonlySet<number> = new Set([
  200,
  203,
  204,
  300,
  301,
  308,
  404,
  405,
  410,
  414,
  501,
]);

/** Statuses the edge stores at all (206 and 304 never: the edge does not merge ranges). */
const STORABLE_STATUSES: ReadonlySet<number> = new Set([
  ...HEURISTIC_STATUSES,
  302,
  307,
  400,
  403,
  500,
  502,
  503,
  504,
]);

/** How an origin response may be kept; `storable: false` says why not. */
export type Storability =
  | { storable: false; reason: string }
  | {
    storable: true;
    /** Freshness lifetime, ms (0: stored only to be revalidated). */
    freshMs: number;
    /** Age the response already had when received (`Age` + the request's round trip), ms. */
    initialAgeMs: number;
    /** How long past freshness it may be served while one refresh runs (RFC 5861), ms. */
    staleWhileRevalidateMs: number;
    /** How long past freshness it may be served when the origin fails (RFC 5861), ms. */
    staleIfErrorMs: number;
  };

/** The inputs of {@link storability}. */
export interface ResponseFacts {
  /** The origin's status. */
  status: number;
  /** The origin's headers. */
  headers: Headers;
  /** When the request was sent, epoch ms. */
  requestTime: number;
  /** When the response headers arrived, epoch ms. */
  responseTime: number;
  /** Freshness of a response that gives none, ms (`EDGE_DEFAULT_TTL`; 0: not stored). */
  defaultTtlMs: number;
}

/** Whether and for how long a response may be stored by a shared cache (RFC 9111 §3, §4.2). */
export function storability(facts: ResponseFacts): Storability {
  const { status, headers } = facts;
  if (!STORABLE_STATUSES.has(status)) return { storable: false, reason: `status ${status}` };
  const cc = parseCacheControl(headers.get("cache-control"));
  if (cc.has("no-store")) return { storable: false, reason: "no-store" };
  if (cc.has("private")) return { storable: false, reason: "private" };
  if (headers.has("set-cookie")) return { storable: false, reason: "Set-Cookie" };
  const vary = varyNames(headers);
  if (vary === "*") return { storable: false, reason: "Vary: *" };
  const ageHeader = Number(headers.get("age") ?? "0");
  const initialAgeMs = Math.max(
    Number.isFinite(ageHeader) && ageHeader > 0 ? ageHeader * 1000 : 0,
    0,
  ) + Math.max(0, facts.responseTime - facts.requestTime);
  let freshMs = secondsOf(cc, "s-maxage") ?? secondsOf(cc, "max-age");
  if (freshMs === undefined && headers.has("expires")) {
    const expires = Date.parse(headers.get("expires")!);
    const date = Date.parse(headers.get("date") ?? "") || facts.responseTime;
    // An invalid Expires means "already expired" (RFC 9111 §5.3).
    freshMs = Number.isNaN(expires) ? 0 : Math.max(0, expires - date);
  }
  if (freshMs === undefined) {
    if (!HEURISTIC_STATUSES.has(status) && !cc.has("public")) {
      return { storable: false, reason: `status ${status} without freshness` };
    }
    if (facts.defaultTtlMs <= 0) return { storable: false, reason: "no freshness information" };
    freshMs = facts.defaultTtlMs;
  }
  if (cc.has("no-cache")) freshMs = 0;
  const validators = headers.has("etag") || headers.has("last-modified");
  if (freshMs <= initialAgeMs && !validators) {
    return { storable: false, reason: "stale on arrival, without validators" };
  }
  // Explicit stale-* directives are the origin's permission (as Fastly and Varnish read them),
  // unless it also demands revalidation.
  const strict = cc.has("must-revalidate") || cc.has("proxy-revalidate") || cc.has("no-cache");
  return {
    storable: true,
    freshMs,
    initialAgeMs,
    staleWhileRevalidateMs: strict ? 0 : secondsOf(cc, "stale-while-revalidate") ?? 0,
    staleIfErrorMs: strict ? 0 : secondsOf(cc, "stale-if-error") ?? 0,
  };
}

/** Names of the request headers a response varies on (lower case, sorted), or `"*"`. */
export function varyNames(headers: Headers): string[] | "*" {
  const vary = headers.get("vary");
  if (vary === null) return [];
  const names = vary.split(",").map((n) => n.trim().toLowerCase()).filter((n) => n !== "");
  if (names.includes("*")) return "*";
  return [...new Set(names)].sort();
}

/**
 * Why a request must pass through uncached, or `undefined` when the cache may answer it:
 * methods other than GET and HEAD, `Authorization`, and cookies other than `allowedCookies`.
 */
export function bypassReason(
  request: Request,
  allowedCookies: ReadonlySet<string>,
): string | undefined {
  const method = request.method;
  if (method !== "GET" && method !== "HEAD") return `method ${method}`;
  const headers = request.headers;
  if (headers.has("authorization")) return "Authorization";
  const cookie = headers.get("cookie");
  if (cookie !== null) {
    for (const pair of cookie.split(";")) {
      const name = pair.split("=", 1)[0].trim();
      if (name !== "" && !allowedCookies.has(name)) return `cookie ${name}`;
    }
  }
  return undefined;
}

/**
 * Whether a client's conditional GET is satisfied by a stored response with `etag` and
 * `lastModified` (RFC 9110 §13.2.2): `If-None-Match` (weak comparison) decides when present,
 * else `If-Modified-Since`.
 */
export function notModified(
  request: Headers,
  etag: string | null,
  lastModified: string | null,
): boolean {
  const inm = request.get("if-none-match");
  if (inm !== null) {
    if (etag === null) return false;
    if (inm.trim() === "*") return true;
    const weak = (t: string) => t.trim().replace(/^W\//, "");
    return inm.split(",").some((t) => weak(t) === weak(etag));
  }
  const ims = request.get("if-modified-since");
  if (ims === null || lastModified === null) return false;
  const since = Date.parse(ims), modified = Date.parse(lastModified);
  return !Number.isNaN(since) && !Number.isNaN(modified) && modified <= since;
}

/** Headers never stored or passed on by a proxy (hop by hop, RFC 9110 §7.6.1). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
