/**
 * Whether a request lacks a header, without building its `Headers`. In Deno (2.9.6), the first
 * touch of `req.headers` on a request from `Deno.serve` copies every header out of the server
 * and builds a `Headers` object (a cost measured in docs/benchmarks.md, "HTTP hot path"),
 * while the server's own request object answers one header with one lookup. A plain `GET`
 * checks two headers that are almost never there (`X-Cache-Meta`, `If-None-Match`): asking the
 * server for just those spares it the rest.
 *
 * The server's request object is not public API: it is found once, as the own symbol-keyed
 * property of a served request that has a `header` method (Deno keeps it there for its own
 * use), and this module answers exactly as `req.headers` would: it says only that a header is
 * absent (one lookup by the lower-case name in the same header map `req.headers` is built
 * from); a header that is there is read with `req.headers.get`, which joins repeated lines as
 * the Fetch standard says. Requests that are not from `Deno.serve` (built with `new Request`,
 * or by a future Deno without that object) always go through `req.headers`.
 * `header_probe_test.ts` checks under a real `Deno.serve` that the lookup is found, so a Deno
 * upgrade that moves it fails a test instead of slowing the hot path unnoticed.
 *
 * @module
 */

interface ServedRequest {
  header(name: string): string | null;
}

// The symbol under which a served request keeps the server's request object: unknown until
// the first served request is seen, `null` once looked for and not found.
let slot: symbol | null | undefined;

function served(req: Request): ServedRequest | undefined {
  if (slot === undefined) {
    slot = null;
    for (const symbol of Object.getOwnPropertySymbols(req)) {
      const inner = (req as unknown as Record<symbol, unknown>)[symbol];
      if (isServed(inner)) {
        slot = symbol;
        break;
      }
    }
    // A constructed request has the property too, without `header`: look again next time.
    if (slot === null) slot = undefined;
  }
  if (!slot) return undefined;
  const inner = (req as unknown as Record<symbol, unknown>)[slot];
  return isServed(inner) ? inner : undefined;
}

function isServed(inner: unknown): inner is ServedRequest {
  return typeof inner === "object" && inner !== null &&
    typeof (inner as { header?: unknown }).header === "function";
}

/**
 * `req.headers.get(name)`, for a lower-case `name`, without building `req.headers` when the
 * request came from `Deno.serve` and lacks the header.
 */
export function headerOf(req: Request, name: string): string | null {
  const inner = served(req);
  if (inner !== undefined && inner.header(name) === null) return null;
  return req.headers.get(name);
}

/** Whether the server could answer for `req` without `req.headers` (tests). */
export function probes(req: Request): boolean {
  return served(req) !== undefined;
}
