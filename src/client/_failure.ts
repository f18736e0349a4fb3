/**
 * How the client tells failures apart: a connection that was never made (the request cannot have
 * been applied, so any call may retry it) from one that broke after the request was sent (only
 * idempotent calls may retry), across runtimes: Deno says "tcp connect error" / "Connection
 * refused (os error 111)", Node's fetch (undici) throws `TypeError("fetch failed")` with a
 * `cause` whose `code` is `ECONNREFUSED`, `ENOTFOUND`...; browsers say nothing more than
 * `TypeError`, which then counts as possibly reached.
 *
 * @module
 */

const NEVER_CONNECTED =
  /connection refused|tcp connect error|dns error|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN/i;
const CONNECT_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

/** Whether `err` (a `fetch` rejection) says no connection was made: the node never saw it. */
export function neverReached(err: unknown): boolean {
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && CONNECT_CODES.has(code)) return true;
    if (NEVER_CONNECTED.test(String((e as Error).message ?? e))) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A one-line reason for `err`, with its cause's (Node hides the useful part there). */
export function reasonOf(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  const own = e?.message ?? String(err);
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause && !own.includes(String(cause)) ? `${own} (${cause})` : own;
}
