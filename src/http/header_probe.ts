/**
 * Request headers without building `req.headers`. In Deno (2.9.6), the first touch of
 * `req.headers` on a request from `Deno.serve` copies every header out of the server and builds
 * a `Headers` object (a cost measured in docs/benchmarks.md, "HTTP hot path"), while the
 * server's own request object answers one header with one lookup. A plain `GET` checks two
 * headers that are almost never there (`X-Cache-Meta`, `If-None-Match`), a plain `PUT` about
 * ten of which it uses two: asking the server for just those spares it the rest.
 *
 * The server's request object is not public API: it is found once, as the own symbol-keyed
 * property of a served request that has a `header` method (Deno keeps it there for its own
 * use). Its answer is the one `req.headers.get` gives (any case of the name, repeated lines
 * joined with ", "), which `header_probe_test.ts` checks under a real `Deno.serve`, with the
 * lookup being found at all: a Deno upgrade that moves or changes it fails a test instead of
 * slowing the hot path or changing an answer unnoticed. Requests that are not from `Deno.serve`
 * (built with `new Request`, or by a Deno without that object) go through `req.headers`.
 *
 * @module
 */

interface ServedRequest {
  header(name: string): string | null;
}

// The symbol under which a served request keeps the server's request object, once found.
let slot: symbol | undefined;

function served(req: Request): ServedRequest | undefined {
  if (slot === undefined) {
    // A constructed request has such a property too, without `header`: then look again next
    // time (only requests that are not served pay for it).
    slot = Object.getOwnPropertySymbols(req).find((symbol) =>
      isServed((req as unknown as Record<symbol, unknown>)[symbol])
    );
    if (slot === undefined) return undefined;
  }
  const inner = (req as unknown as Record<symbol, unknown>)[slot];
  return isServed(inner) ? inner : undefined;
}

function isServed(inner: unknown): inner is ServedRequest {
  return typeof inner === "object" && inner !== null &&
    typeof (inner as { header?: unknown }).header === "function";
}

/** `req.headers.get(name)`, without building `req.headers` for a request from `Deno.serve`. */
export function headerOf(req: Request, name: string): string | null {
  const inner = served(req);
  return inner !== undefined ? inner.header(name) : req.headers.get(name);
}

/** Whether `req` is answered by the server's own lookup (tests). */
export function probes(req: Request): boolean {
  return served(req) !== undefined;
}
