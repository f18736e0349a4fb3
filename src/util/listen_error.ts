/**
 * Start-up errors that say which server could not listen where: `Cannot listen for HTTP on
 * 127.0.0.1:8000: address in use`. The runtime's own message (`Address already in use (os error
 * 98)`) names neither, and a node opens three listeners (HTTP, gossip UDP, gossip TCP).
 *
 * @module
 */

const REASONS: [new (...args: never[]) => Error, string][] = [
  [Deno.errors.AddrInUse, "address in use"],
  [Deno.errors.AddrNotAvailable, "address not available on this host"],
  [Deno.errors.PermissionDenied, "permission denied"],
  [Deno.errors.NotCapable, "not allowed by the process's --allow-net"],
];

/**
 * The error to throw when `server` (e.g. `HTTP`, `gossip (UDP)`) cannot listen on `host:port`:
 * the same class as the runtime's `error` (so `instanceof Deno.errors.AddrInUse` still holds),
 * a message naming the server, address and reason, and the original as `cause`.
 */
export function listenError(server: string, host: string, port: number, error: unknown): Error {
  if (!(error instanceof Error)) return new Error(`Cannot listen for ${server} on ${host}:${port}`);
  const known = REASONS.find(([type]) => error instanceof type);
  const reason = known ? `${known[1]} (${error.message})` : error.message;
  const message = `Cannot listen for ${server} on ${host}:${port}: ${reason}`;
  const ErrorClass = error.constructor as new (message: string, options: ErrorOptions) => Error;
  try {
    return new ErrorClass(message, { cause: error });
  } catch {
    return new Error(message, { cause: error });
  }
}
