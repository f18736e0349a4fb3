/**
 * The client's typed failures. Every one extends {@link CacheClientError}, so a caller can catch
 * them all at once or by class. A miss is not an error (`get` resolves `undefined`), and a
 * caller's own abort rejects with the signal's reason, as `fetch` does.
 *
 * @module
 */

/** Base class of the client's failures: the HTTP `status` when a node answered one. */
export class CacheClientError extends Error {
  /**
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
  /** @param message the node's reason */
  constructor(message: string) {
    super(message, 412);
    this.name = "PreconditionFailedError";
  }
}

/** `incr` of a value that is not an integer: 409. */
export class NotACounterError extends CacheClientError {
  /** @param message the node's reason */
  constructor(message: string) {
    super(message, 409);
    this.name = "NotACounterError";
  }
}

/** The call's deadline (`timeoutMs`) passed before a node answered (or a 504 from a node). */
export class TimeoutError extends CacheClientError {
  /** @param message what timed out @param status 504 when a node answered it */
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, status, options);
    this.name = "TimeoutError";
  }
}

/** No node could serve the call: every attempt failed to connect or was refused with 503. */
export class UnavailableError extends CacheClientError {
  /** @param message the last failure @param status 503 when a node answered it */
  constructor(message: string, status?: number, options?: { cause?: unknown }) {
    super(message, status, options);
    this.name = "UnavailableError";
  }
}

/** The node refused the bearer token (401): the `token` option is missing or wrong. */
export class AuthError extends CacheClientError {
  /** @param message the node's reason */
  constructor(message: string) {
    super(message, 401);
    this.name = "AuthError";
  }
}

/** The node refused the request as invalid (400, 404 route, 405, 413, 414, 415). */
export class RequestError extends CacheClientError {
  /** @param message the node's reason @param status its status */
  constructor(message: string, status: number) {
    super(message, status);
    this.name = "RequestError";
  }
}
