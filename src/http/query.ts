/**
 * Query parameters of a request URL without `new URL()`: Deno builds `Request.url` from the
 * `Host` header, so a client can make it unparsable (`Host: a b: c`), and `new URL` would throw
 * where a plain 400 or 401 is due. `URLSearchParams` never throws.
 *
 * @module
 */

/** The query of `url` (between `?` and `#`), as search parameters; empty when there is none. */
export function queryOf(url: string): URLSearchParams {
  const hash = url.indexOf("#");
  const end = hash < 0 ? url.length : hash;
  const q = url.indexOf("?");
  return q < 0 || q > end ? new URLSearchParams() : new URLSearchParams(url.slice(q + 1, end));
}
