/**
 * Counters of a worker runtime (the `workers` section of a node's `/stats`): requests, errors,
 * timeouts, worker restarts, and a histogram of request durations.
 *
 * @module
 */

/** Upper bounds of the duration histogram's buckets, ms (the last bucket is unbounded). */
export const DURATION_BUCKETS_MS: readonly number[] = [1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000];

/** What `/stats` shows under `workers`. */
export interface WorkerStatsView {
  /** Requests answered (by the handler, or 500/503 on its behalf). */
  requests: number;
  /** Requests whose handler threw or whose worker crashed (answered 500 or passed through). */
  errors: number;
  /** Requests past `WORKER_TIMEOUT` (answered 503). */
  timeouts: number;
  /** Workers terminated and replaced (timeouts, crashes, memory). */
  restarts: number;
  /** Workers terminated because the process grew past `WORKER_MEMORY`. */
  memoryKills: number;
  /** Reloads of the module (file change or SIGHUP). */
  reloads: number;
  /** Requests in flight now. */
  inFlight: number;
  /** Workers in the pool. */
  pool: number;
  /** Sum of request durations, ms. */
  durationMsSum: number;
  /** Requests per duration bucket: `le` upper bounds of {@link DURATION_BUCKETS_MS}, then +Inf. */
  durationBuckets: { le: number | "+Inf"; count: number }[];
}

/** Mutable counters shared by the pools of one runtime. */
export class WorkerStats {
  /** Requests answered. */
  requests = 0;
  /** Failed requests. */
  errors = 0;
  /** Timed-out requests. */
  timeouts = 0;
  /** Workers replaced. */
  restarts = 0;
  /** Workers terminated over the memory budget. */
  memoryKills = 0;
  /** Module reloads. */
  reloads = 0;
  #durationSum = 0;
  readonly #buckets = new Array<number>(DURATION_BUCKETS_MS.length + 1).fill(0);

  /** Counts one answered request that took `ms`. */
  record(ms: number, outcome?: "error" | "timeout"): void {
    this.requests++;
    if (outcome === "error") this.errors++;
    else if (outcome === "timeout") this.timeouts++;
    this.#durationSum += ms;
    let i = 0;
    while (i < DURATION_BUCKETS_MS.length && ms > DURATION_BUCKETS_MS[i]) i++;
    this.#buckets[i]++;
  }

  /**
   * Adds a direct-mode worker's STATS message (`[tag, requests, errors, timeouts, durationMsSum,
   * ...buckets]`, see `protocol.ts`); malformed entries count as 0.
   */
  add(message: readonly unknown[]): void {
    const n = (i: number) => {
      const v = message[i];
      return typeof v === "number" && Number.isFinite(v) && v >= 0 ? v : 0;
    };
    this.requests += n(1);
    this.errors += n(2);
    this.timeouts += n(3);
    this.#durationSum += n(4);
    for (let i = 0; i < this.#buckets.length; i++) this.#buckets[i] += n(5 + i);
  }

  /** A snapshot, with the live gauges given. */
  view(inFlight: number, pool: number): WorkerStatsView {
    return {
      requests: this.requests,
      errors: this.errors,
      timeouts: this.timeouts,
      restarts: this.restarts,
      memoryKills: this.memoryKills,
      reloads: this.reloads,
      inFlight,
      pool,
      durationMsSum: Math.round(this.#durationSum * 1000) / 1000,
      durationBuckets: this.#buckets.map((count, i) => ({
        le: i < DURATION_BUCKETS_MS.length ? DURATION_BUCKETS_MS[i] : "+Inf" as const,
        count,
      })),
    };
  }
}
