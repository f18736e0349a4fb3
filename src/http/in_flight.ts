/**
 * The global cap on HTTP requests in flight (`MAX_IN_FLIGHT`): {@link InFlightLimit} wraps the
 * request handler, counts requests from arrival until their response is ready, and answers
 * `503` with `Retry-After` to requests beyond the cap instead of queueing them, so a flood
 * costs the node one small answer per request rather than memory and latency for everyone.
 * The health probes (`/healthz`, `/readyz`) are always answered: an orchestrator must not
 * restart or drain a node because it is busy. Replication requests from peers count like any
 * other; a peer retries a refused batch, and anti-entropy repairs what a retry misses.
 *
 * It also counts the answers that tell of a slow client (`408`, a body not received in time),
 * so both kinds of refusal show in `/stats` and `/metrics`.
 *
 * @module
 */

import { pathOf } from "./auth.ts";

const ALWAYS_OPEN = new Set(["/healthz", "/readyz"]);

/** Counters of an {@link InFlightLimit}. */
export interface InFlightStats {
  /** Requests being handled now. */
  inFlight: number;
  /** The cap. */
  maxInFlight: number;
  /** Requests refused with 503 because `maxInFlight` were in flight. */
  rejectedBusy: number;
  /** Requests answered 408 (body not received within the body timeout). */
  bodyTimeouts: number;
}

type Handler = (req: Request) => Response | Promise<Response>;

/** Caps concurrent requests of one handler. */
export class InFlightLimit {
  readonly #max: number;
  #inFlight = 0;
  #rejected = 0;
  #timeouts = 0;

  /** @param max most requests handled at once (a positive integer) */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot create in-flight limit: max must be a positive integer: received ${max}`,
      );
    }
    this.#max = max;
  }

  /** Current counters. */
  stats(): InFlightStats {
    return {
      inFlight: this.#inFlight,
      maxInFlight: this.#max,
      rejectedBusy: this.#rejected,
      bodyTimeouts: this.#timeouts,
    };
  }

  /** `handler` behind the cap. */
  wrap(handler: Handler): Handler {
    const failed = (err: unknown): never => {
      this.#inFlight--;
      throw err;
    };
    return (req) => {
      const busy = this.admit(req);
      if (busy !== undefined) return busy;
      let res: Response | Promise<Response>;
      try {
        res = handler(req);
      } catch (err) {
        return failed(err);
      }
      return res instanceof Response ? this.release(res) : res.then(this.release, failed);
    };
  }

  /**
   * Counts `req` in, or answers the 503 when `maxInFlight` are in flight (then nothing is
   * counted in). A request counted in must be {@link InFlightLimit.release}d with its answer.
   * For a handler that chains its own steps ({@link InFlightLimit.wrap} does it for others).
   */
  admit(req: Request): Response | undefined {
    // The path is only parsed for requests over the cap, so the hot path pays two counters.
    if (this.#inFlight >= this.#max && !ALWAYS_OPEN.has(pathOf(req.url))) {
      this.#rejected++;
      return this.#busy();
    }
    this.#inFlight++;
    return undefined;
  }

  /** Counts out a request {@link InFlightLimit.admit}ted, with its answer `res`; returns `res`. */
  readonly release = (res: Response): Response => {
    this.#inFlight--;
    if (res.status === 408) this.#timeouts++;
    return res;
  };

  #busy(): Response {
    return new Response(
      JSON.stringify({
        error: `Too many requests in flight: limit is ${this.#max} (MAX_IN_FLIGHT); retry later`,
      }),
      {
        status: 503,
        headers: { "content-type": "application/json; charset=utf-8", "retry-after": "1" },
      },
    );
  }
}
