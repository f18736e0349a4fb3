/**
 * The client's typed failures. Every one extends {@link CacheClientError}, so a caller can catch
 * them all at once or by class. A miss is not an error (`get` resolves `undefined`), and a
 * caller's own abort rejects with the signal's reason, as `fetch` does. {@link failure} is the
 * one place that maps a node's failure answer (status and JSON `error`) to its class.
 *
 * @module
 */

/** Base class of the client's failures: the HTTP `status` when a node answered one. */
export class CacheClientError extends Error {
  /**
   * Creates the error.
   * @param message what failed, naming the operation and key
   * @param status the node's HTTP status, when one answered
   * @param options the underlying error as `cause`
   */
  constructor(message: string, readonly status?: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CacheClientError";
  }
}

/** A conditional write (`ifMatch`, `ifNoneMatch`) whose condition did not hold: 412. */
export class PreconditionFailedError extends CacheClientError {
  /** Creates the error. @param message the node's reason */
  constructor(message: string) {
    super(message, 412);
    this.name = "PreconditionFailedError";
  }
}

/** `incr` of a value that is not an integer: 409. */
export class NotACounterError extends CacheClientError {
  /** Creates the error. @param message the node's reason */
  constructor(message: string) {
    super(message, 409);
    this.name = "NotACounterError";
  }
}

/** The call's deadline (`timeoutMs`) passed before a node answered (or a 504 from a node). */
export class TimeoutError extends CacheClientError {
  /** Creates the error. @param message what timed out @param status 504 when a node answered it */
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, status, options);
    this.name = "TimeoutError";
  }
}

/** No node could serve the call: every attempt failed to connect or was refused with 503. */
export class UnavailableError extends CacheClientError {
  /** Creates the error. @param message the last failure @param status 503 when a node answered it */
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, status, options);
    this.name = "UnavailableError";
  }
}

/** The node refused the bearer token (401): the `token` option is missing or wrong. */
export class AuthError extends CacheClientError {
  /** Creates the error. @param message the node's reason */
  constructor(message: string) {
    super(message, 401);
    this.name = "AuthError";
  }
}

/** The node refused the request as invalid (400, 404 route, 405, 413, 414, 415). */
export class RequestError extends CacheClientError {
  /** Creates the error. @param message the node's reason @param status its status */
  constructor(message: string, status: number) {
    super(message, status);
    this.name = "RequestError";
  }
}

/** The `error` field of a JSON error answer, else its text (shortened). */
export async function errorText(res: Response): Promise<string> {
  const text = await res.text().catch(() => "");
  try {
    const doc = JSON.parse(text);
    if (typeof doc?.error === "string") return doc.error;
  } catch { /* not JSON */ }
  return text.slice(0, 200);
}

/** The typed error for a node's failure answer `res` to `op` (of `key`). */
export async function failure(op: string, key: string | undefined, res: Response): Promise<Error> {
  const reason = await errorText(res);
  const what = `Cannot ${op}${key === undefined ? "" : ` ${JSON.stringify(key)}`}: ${reason}`;
  switch (res.status) {
    case 401:
      return new AuthError(what);
    case 409:
      return new NotACounterError(what);
    case 412:
      return new PreconditionFailedError(what);
    case 503:
      return new UnavailableError(what, 503);
    case 504:
      return new TimeoutError(what, 504);
  }
  return res.status >= 400 && res.status < 500
    ? new RequestError(what, res.status)
    : new CacheClientError(what, res.status);
}
