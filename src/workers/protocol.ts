/**
 * The messages between the host (the node's pool) and a worker, as positional arrays, bodies as
 * transferred `ArrayBuffer`s, no per-message objects beyond the array itself. Each side sends the
 * messages of one run of microtasks as one frame (an array of messages, one `postMessage`): under
 * load one hop carries many requests or answers, which costs less CPU per request (measured in
 * docs/benchmarks.md, "Edge workers"). Requests over HTTP arrive one per task, so the host
 * also holds new requests while the worker has not answered its last frame (the worker is busy:
 * what arrives meanwhile leaves as one frame when it answers), and the worker answers every
 * frame, with an empty one when nothing else left by its event loop's next turn (a handler
 * waiting on a timer or a fetch holds no request back). Answers to the worker's own calls (KV,
 * origin) are never held. The first message to a worker, a {@link WorkerInit}, is sent alone. In
 * direct mode (`WORKER_MODE=direct`) the worker is a process that listens itself: the messages
 * travel as frames over its stdin and stdout (`_frames.ts`), and it holds its own messages while
 * a frame of its is unanswered (the host answers each, with an empty frame if need be).
 *
 * The worker side (`_bootstrap.ts`) is a self-contained function sent to the worker as source
 * text, so it cannot import these constants: it repeats the numbers, and the runtime's tests
 * exercise every one of them end to end.
 *
 * @module
 */

/** Message tags (the first element of every message). */
export const Tag = {
  /** worker → host `[READY, error?]`: the module loaded (or why not). */
  READY: 0,
  /**
   * host → worker `[REQUEST, id, method, url, headers, body]`; worker → host
   * `[REQUEST, id, status, headers, body]`. `headers` is a flat `[name, value, ...]` array.
   */
  REQUEST: 1,
  /**
   * worker → host `[KV, call, binding, op, key, a, b]`; host → worker `[KV, call, ok, value]`
   * (`value` is the error message when `ok` is 0).
   */
  KV: 2,
  /**
   * worker → host `[ORIGIN, call, method, url, headers, body]`; host → worker
   * `[ORIGIN, call, status, headers, body]`, status -1 with the error message as `headers`.
   */
  ORIGIN: 3,
  /** host → worker `[DRAIN]`; worker → host `[DRAIN]` once no request or waitUntil is pending. */
  DRAIN: 4,
  /** worker → host `[FAILED, id, message, passThrough, body]`: the handler threw. */
  FAILED: 5,
  /** worker → host `[LOG, message]`: a rejected waitUntil or an unhandled rejection. */
  LOG: 6,
  /**
   * Direct mode, worker → host `[STATS, requests, errors, timeouts, durationMsSum, ...buckets]`:
   * what the worker answered since its last STATS (buckets of `WorkerInit.buckets`, then +Inf).
   */
  STATS: 7,
  /** Direct mode, worker → host `[ERROR, url, message]`: a handler threw. */
  ERROR: 8,
  /**
   * Direct mode, worker → host `[TICK, inFlight]`, on every turn of the worker's timer: it is
   * alive, and holds this many requests.
   */
  TICK: 9,
} as const;

/** What the worker receives first: its module and its bindings. */
export interface WorkerInit {
  /** URL of the user's module. */
  module: string;
  /** KV binding names (`env.<NAME>`). */
  kv: readonly string[];
  /** Vars (`env.<NAME>`, strings). */
  vars: Readonly<Record<string, string>>;
  /** Whether `env.ORIGIN` exists (an origin is configured). */
  origin: boolean;
  /** Direct mode: where the worker listens (`SO_REUSEPORT`). */
  listen?: { hostname: string; port: number };
  /** Direct mode: the request deadline, ms (a handler awaiting past it is answered 503). */
  timeoutMs?: number;
  /** Direct mode: the duration histogram's upper bounds, ms. */
  buckets?: readonly number[];
}
