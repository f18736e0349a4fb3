/**
 * Bearer-token authentication of the HTTP API (`AUTH_TOKEN`): {@link BearerAuth} decides, per
 * request, whether it may go on, and builds the `401` answer when it may not.
 *
 * Deny by default: every route needs `Authorization: Bearer <token>` except the few that reveal
 * nothing and must work without credentials — `/healthz` and `/readyz` (orchestrator probes),
 * `/openapi.json` (the public contract) and `GET /` (the dashboard page itself; the data it shows
 * comes from `/dashboard/state`, which is protected). A browser page cannot add headers to its
 * own polling, so `/dashboard/state` alone also accepts the token as a `token` query parameter or
 * as a cookie that `GET /?token=...` sets (HttpOnly, SameSite=Strict, scoped to that one path).
 *
 * Tokens are compared in constant time over the expected token's length: the time taken depends
 * on the length of the configured token only, never on how much of a guess was right.
 *
 * @module
 */

import { headerOf } from "./header_probe.ts";
import { queryOf } from "./query.ts";

/** Name of the cookie that carries the token to `/dashboard/state`. */
export const DASHBOARD_COOKIE = "cachenode_token";

const DASHBOARD_STATE = "/dashboard/state";
const OPEN_PATHS = new Set(["/healthz", "/readyz", "/openapi.json"]);
const BEARER = /^bearer +/i;

/**
 * Compares two strings in time that depends only on `expected.length`: every position of
 * `expected` is visited whatever `received` holds, and a length mismatch only sets a flag.
 */
export function timingSafeEqual(received: string, expected: string): boolean {
  let diff = received.length ^ expected.length;
  for (let i = 0; i < expected.length; i++) {
    // Reading past the end of `received` yields NaN; `| 0` turns it into 0 without a branch.
    diff |= (received.charCodeAt(i) | 0) ^ expected.charCodeAt(i);
  }
  return diff === 0;
}

/** The path of a request URL (`http://host:port/a/b?q` → `/a/b`), without parsing it fully. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.indexOf("?", start);
  if (end < 0) end = url.length;
  const hash = url.indexOf("#", start);
  return url.slice(start, hash >= 0 && hash < end ? hash : end);
}

/** Options of {@link BearerAuth}. */
export interface BearerAuthOptions {
  /** The shared token (validated by the config loader: 16+ token68 characters). */
  token: string;
  /** Mark the dashboard cookie `Secure` (the server speaks HTTPS). @default false */
  secureCookie?: boolean;
}

/** Checks requests against one bearer token. */
export class BearerAuth {
  readonly #token: string;
  readonly #cookieAttributes: string;

  /** Creates a checker for `options.token`. */
  constructor(options: BearerAuthOptions) {
    if (options.token === "") {
      throw new RangeError("Cannot create bearer auth: token must not be empty");
    }
    this.#token = options.token;
    this.#cookieAttributes = `; Path=${DASHBOARD_STATE}; HttpOnly; SameSite=Strict${
      options.secureCookie ? "; Secure" : ""
    }`;
  }

  /** The value of the `Authorization` header peers and clients send. */
  get authorization(): string {
    return `Bearer ${this.#token}`;
  }

  /** Whether `req` carries the right token in its `Authorization` header (the hot-path check). */
  accepts(req: Request): boolean {
    const header = headerOf(req, "authorization");
    if (header === null) return false;
    const scheme = BEARER.exec(header);
    return scheme !== null && timingSafeEqual(header.slice(scheme[0].length), this.#token);
  }

  /**
   * `undefined` when `req` may go on (right token, or an open route), else the `401` answer.
   * Nothing has been read from the request body at that point, so a refused request changes
   * nothing.
   */
  check(req: Request): Response | undefined {
    if (this.accepts(req)) return undefined;
    const url = req.url;
    const path = pathOf(url);
    if (OPEN_PATHS.has(path)) return undefined;
    if (path === "/" && (req.method === "GET" || req.method === "HEAD")) return undefined;
    if (path === DASHBOARD_STATE && this.#dashboardToken(req, url)) return undefined;
    return this.deny(req.headers.has("authorization"));
  }

  /** The `401` answer; `invalid` says a token was given but is wrong (RFC 6750's error code). */
  deny(invalid: boolean): Response {
    const challenge = invalid
      ? `Bearer realm="cachenode", error="invalid_token"`
      : `Bearer realm="cachenode"`;
    return new Response(
      JSON.stringify({
        error: invalid
          ? "Invalid bearer token"
          : "Missing bearer token: send Authorization: Bearer <token>",
      }),
      {
        status: 401,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "www-authenticate": challenge,
        },
      },
    );
  }

  /**
   * The `Set-Cookie` value that lets the dashboard page poll `/dashboard/state`, when `req`
   * (`GET /?token=...`) carries the right token; `undefined` otherwise.
   */
  dashboardCookie(req: Request): string | undefined {
    const token = queryOf(req.url).get("token");
    if (token === null || !timingSafeEqual(token, this.#token)) return undefined;
    return `${DASHBOARD_COOKIE}=${encodeURIComponent(token)}${this.#cookieAttributes}`;
  }

  #dashboardToken(req: Request, url: string): boolean {
    const query = queryOf(url).get("token");
    if (query !== null) return timingSafeEqual(query, this.#token);
    const cookie = cookieValue(req.headers.get("cookie"), DASHBOARD_COOKIE);
    return cookie !== undefined && timingSafeEqual(cookie, this.#token);
  }
}

function cookieValue(header: string | null, name: string): string | undefined {
  if (header === null) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}
