/**
 * `WorkerRuntime`: the user's Workers-style module served by a {@link WorkerPool}, reloaded
 * without dropping requests (a new pool takes new requests while the old one drains) on
 * {@link WorkerRuntime.reload} (SIGHUP in `main.ts`) or, with `WORKER_RELOAD`, when a file of
 * the module's folder changes.
 *
 * @module
 */

import type { CacheService } from "../service/mod.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { type OriginFetch, WorkerPool } from "./pool.ts";
import type { WorkerSettings } from "./settings.ts";
import { WorkerStats, type WorkerStatsView } from "./stats.ts";

/** What a runtime needs. */
export interface WorkerRuntimeOptions {
  /** The resolved settings (`resolveWorkerSettings`). */
  settings: WorkerSettings;
  /** The node: KV bindings call it. */
  service: CacheService;
  /** Where `env.ORIGIN.fetch` and pass-through go. @default no origin */
  originFetch?: OriginFetch;
  /** Where the user's errors and reloads are logged. @default silentLogger */
  logger?: Logger;
}

/** Debounce of file-change reloads, ms: an editor's save is several events. */
const RELOAD_DEBOUNCE_MS = 100;

/** A worker runtime; start it, pass it requests, close it. */
export class WorkerRuntime implements AsyncDisposable {
  readonly #options: WorkerRuntimeOptions;
  readonly #log: Logger;
  readonly #stats = new WorkerStats();
  #pool: WorkerPool | undefined;
  #draining = new Set<Promise<void>>();
  #watcher: Deno.FsWatcher | undefined;
  #reloading: Promise<void> = Promise.resolve();

  /** A stopped runtime. */
  constructor(options: WorkerRuntimeOptions) {
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
  }

  /** Starts the pool (rejects when the module does not load) and, if asked, the file watch. */
  async start(): Promise<void> {
    this.#pool = await this.#newPool();
    if (this.#options.settings.reload) this.#watch();
  }

  /** Answers `request` with the worker's response (or 500/503 on its behalf). */
  handle(request: Request): Promise<Response> {
    const pool = this.#pool;
    if (!pool) return Promise.resolve(new Response("Worker runtime stopped\n", { status: 503 }));
    return pool.handle(request);
  }

  /**
   * Loads the module again in a new pool; once it is ready it takes new requests and the old
   * pool finishes its own. A module that no longer loads leaves the old pool serving (logged).
   */
  reload(): Promise<void> {
    this.#reloading = this.#reloading.then(async () => {
      if (!this.#pool) return;
      let fresh: WorkerPool;
      try {
        fresh = await this.#newPool();
      } catch (err) {
        this.#log.error("worker reload failed: the previous version keeps serving", { err });
        return;
      }
      const old = this.#pool;
      if (!old) return void await fresh.close(0);
      this.#pool = fresh;
      this.#stats.reloads++;
      this.#log.info("worker reloaded", { module: this.#options.settings.moduleUrl });
      const drain = old.close().finally(() => this.#draining.delete(drain));
      this.#draining.add(drain);
    });
    return this.#reloading;
  }

  /** Counters for `/stats`. */
  stats(): WorkerStatsView {
    return this.#stats.view(this.#pool?.inFlight ?? 0, this.#options.settings.poolSize);
  }

  /** Stops the watch, lets requests in flight finish (up to the timeout), stops the workers. */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#watcher = undefined;
    await this.#reloading;
    const pool = this.#pool;
    this.#pool = undefined;
    await Promise.all([pool?.close(), ...this.#draining]);
  }

  /** Same as {@link WorkerRuntime.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #newPool(): Promise<WorkerPool> {
    const pool = new WorkerPool({
      settings: this.#options.settings,
      service: this.#options.service,
      originFetch: this.#options.originFetch,
      logger: this.#log,
      stats: this.#stats,
    });
    await pool.start();
    return pool;
  }

  async #watch(): Promise<void> {
    const watcher = this.#watcher = Deno.watchFs(this.#options.settings.dir);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      for await (const event of watcher) {
        if (event.kind === "access") continue;
        clearTimeout(timer);
        timer = setTimeout(() => this.reload(), RELOAD_DEBOUNCE_MS);
      }
    } catch (err) {
      this.#log.warn("worker file watch stopped", { err });
    } finally {
      clearTimeout(timer);
    }
  }
}
