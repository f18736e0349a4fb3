/**
 * `CacheNode`: one cache node that owns its store, its clocks and its HTTP server, and (once
 * membership and replication are wired in) its gossip sockets. It is what `main.ts` runs and what
 * a Deno program embeds; it can be started and closed many times in one process.
 *
 * @module
 */

import { type NodeConfig, nodeConfig } from "../config/mod.ts";
import { createHandler } from "../http/app.ts";
import type {
  CacheEntryView,
  CacheService,
  MemberView,
  SetOptions,
  WriteOptions,
} from "../http/app.ts";
import { type StoreStats, TtlStore } from "../store/mod.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { HybridLogicalClock } from "../util/hlc.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { Cluster } from "./cluster.ts";

/** Collaborators a node can be given instead of the real ones (tests, simulations). */
export interface CacheNodeDeps {
  /** Time source for TTLs, versions and timers. @default systemClock */
  clock?: Clock;
  /** Where log lines go. @default silentLogger */
  logger?: Logger;
}

/** A cache node: store + HTTP API (+ membership and replication when configured). */
export class CacheNode implements CacheService, AsyncDisposable {
  /** The validated configuration this node runs with. */
  readonly config: NodeConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #store: TtlStore;
  readonly #hlc: HybridLogicalClock;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #cluster: Cluster | undefined;
  #started = false;

  /** Creates a stopped node; `config` fields left out take their defaults. */
  constructor(config: Partial<NodeConfig> = {}, deps: CacheNodeDeps = {}) {
    this.config = nodeConfig(config);
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.logger ?? silentLogger;
    this.#hlc = new HybridLogicalClock(this.#clock);
    this.#store = new TtlStore({ clock: this.#clock, maxBytes: this.config.maxMemoryBytes });
  }

  /** Size limits enforced on keys and values. */
  get limits(): { maxKeyBytes: number; maxValueBytes: number } {
    return { maxKeyBytes: this.config.maxKeyBytes, maxValueBytes: this.config.maxValueBytes };
  }

  /** The store's counters (entries, bytes, hits, misses, evictions, expirations). */
  stats(): { node: string; store: StoreStats; membership?: Record<string, unknown> } {
    const stats = { node: this.config.nodeName, store: this.#store.stats() };
    return this.#cluster ? { ...stats, membership: this.#cluster.stats() } : stats;
  }

  /** The HTTP address once started with HTTP enabled. */
  get httpAddress(): Deno.NetAddr | undefined {
    return this.#server?.addr;
  }

  /**
   * Starts the expiry sweep, then (unless `http` is false) the HTTP server on
   * `config.bindAddr:config.httpPort`, then (unless `cluster` is false) gossip membership on
   * `config.gossipPort`, joining `config.peers` in the background. Resolves once both listen.
   */
  async start(options: { http?: boolean; cluster?: boolean } = {}): Promise<void> {
    if (this.#started) {
      throw new Error(`Cannot start node ${this.config.nodeName}: already started`);
    }
    this.#started = true;
    this.#store.start();
    if (options.http !== false) {
      const handler = createHandler(this);
      const listening = Promise.withResolvers<void>();
      this.#server = Deno.serve({
        hostname: this.config.bindAddr,
        port: this.config.httpPort,
        onListen: () => listening.resolve(),
        onError: (err) => {
          this.#log.error("http handler failed", { err });
          return new Response(JSON.stringify({ error: "Internal error" }), { status: 500 });
        },
      }, handler);
      await listening.promise;
    }
    if (options.cluster !== false) {
      try {
        this.#cluster = await Cluster.start({
          config: this.config,
          httpPort: this.#server?.addr.port ?? this.config.httpPort,
          clock: this.#clock,
          logger: this.#log,
        });
      } catch (err) {
        await this.close();
        throw err;
      }
    }
    this.#log.info("node started", {
      node: this.config.nodeName,
      http: this.#server ? `${this.#server.addr.hostname}:${this.#server.addr.port}` : "off",
      gossip: this.#cluster ? `${this.config.bindAddr}:${this.#cluster.gossipPort}` : "off",
      peers: this.config.peers.join(",") || "none",
    });
  }

  /** Current time in epoch ms. */
  now(): number {
    return this.#clock.now();
  }

  /** The live value of `key`, or `undefined` (miss or expired). */
  get(key: string): CacheEntryView | undefined {
    return this.#store.get(key);
  }

  /** Stores `value` under `key` with a new version. */
  set(key: string, value: string | Uint8Array, options: SetOptions = {}): Promise<void> {
    const ttlMs = options.ttlMs ?? this.config.defaultTtlMs;
    const now = this.#clock.now();
    const result = this.#store.apply(key, {
      value,
      expiresAt: ttlMs > 0 ? now + ttlMs : 0,
      version: this.#hlc.version(this.config.nodeName),
    });
    if (result.error) return Promise.reject(result.error);
    return Promise.resolve();
  }

  /** Deletes `key` (idempotent); leaves a versioned tombstone so replicas cannot revive it. */
  delete(key: string, _options: WriteOptions = {}): Promise<void> {
    this.#store.apply(key, {
      value: null,
      expiresAt: 0,
      version: this.#hlc.version(this.config.nodeName),
    });
    return Promise.resolve();
  }

  /** Every known member, this node included (only this node when gossip is off). */
  members(): MemberView[] {
    if (this.#cluster) return this.#cluster.members();
    return [{
      name: this.config.nodeName,
      addr: this.config.advertiseAddr ?? this.config.bindAddr,
      port: this.config.gossipPort,
      httpPort: this.#server?.addr.port ?? this.config.httpPort,
      state: "alive",
      incarnation: 0,
      meta: { http_port: this.#server?.addr.port ?? this.config.httpPort },
    }];
  }

  /** Ready once started and, when seeds are configured, joined to the cluster. */
  readiness(): { ready: boolean; reason?: string } {
    if (!this.#started) return { ready: false, reason: "not started" };
    return this.#cluster?.readiness() ?? { ready: true };
  }

  /**
   * Stops accepting requests, lets in-flight requests finish, stops timers. Idempotent; the node
   * can be started again afterwards.
   */
  async close(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    const cluster = this.#cluster;
    this.#cluster = undefined;
    const server = this.#server;
    this.#server = undefined;
    // Leave first (others see "left", not "dead"), while in-flight requests finish.
    await Promise.all([
      cluster?.leaveAndShutdown().catch((err) => this.#log.warn("leave failed", { err })),
      server?.shutdown(),
    ]);
    this.#store.stop();
    this.#log.info("node stopped", { node: this.config.nodeName });
  }

  /** Same as {@link CacheNode.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
