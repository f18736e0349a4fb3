/**
 * How the API edge fails: {@link HttpError} carries a status and a one-line reason, and
 * {@link errorResponse} is the one place that maps any failure (ours, replication's, the store's)
 * to a status with a JSON `{"error": ...}` body.
 *
 * @module
 */

import { SyncNotReadyError, WriteAcksError } from "../replication/mod.ts";
import {
  InvalidInputError,
  NotACounterError,
  NotEnoughReplicasError,
  PreconditionFailedError,
} from "../service/mod.ts";

/** A request the API refuses, with its status and a one-line reason. */
export class HttpError extends Error {
  /** @param status HTTP status @param message reason for the JSON `error` field */
  constructor(readonly status: number, message: string) {
    super(message);
    this.name = "HttpError";
  }
}

const JSON_TYPE = "application/json; charset=utf-8";

/** A JSON error answer: `{"error": message}` with `status` (and extra `headers`). */
export function jsonError(status: number, message: string, headers?: HeadersInit): Response {
  return new Response(JSON.stringify({ error: message }), {
    status,
    headers: { "content-type": JSON_TYPE, ...headers },
  });
}

/** A JSON answer: `doc` with `status` (200 unless given). */
export function jsonResponse(doc: unknown, status = 200): Response {
  return new Response(JSON.stringify(doc), { status, headers: { "content-type": JSON_TYPE } });
}

/** Maps any failure to its status and a JSON error (the one place that does). */
export function errorResponse(err: unknown): Response {
  if (err instanceof HttpError) return jsonError(err.status, err.message);
  if (err instanceof InvalidInputError) return jsonError(err.status, err.message);
  if (err instanceof PreconditionFailedError) return jsonError(412, err.message);
  if (err instanceof NotACounterError) return jsonError(409, err.message);
  if (err instanceof NotEnoughReplicasError) {
    // Refused before anything is written: waiting could only end in a 504.
    return jsonResponse({ error: err.message, required: err.required, live: err.live }, 503);
  }
  if (err instanceof WriteAcksError) {
    // The write stays applied here and keeps replicating; only the confirmation is missing.
    return new Response(
      JSON.stringify({ error: err.message, acks: err.confirmed, required: err.required }),
      { status: 504, headers: { "content-type": JSON_TYPE } },
    );
  }
  if (err instanceof SyncNotReadyError) return jsonError(503, err.message);
  // The node rejects an entry larger than the whole memory budget with a RangeError.
  if (err instanceof RangeError) return jsonError(413, err.message);
  return jsonError(500, `Internal error: ${(err as Error)?.message ?? String(err)}`);
}
