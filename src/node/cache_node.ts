/**
 * `CacheNode`: one cache node that owns its store, its clocks, its HTTP server, its gossip
 * sockets and its replication. It is what `main.ts` runs and what a Deno program embeds; it can
 * be started and closed many times in one process.
 *
 * Over 400 lines: it implements the whole service contract, each method a few lines that hand
 * the work to the part that does it (`kv.ts`, `replication.ts`, the store), plus the start and
 * stop sequence that must be read in one place.
 *
 * @module
 */

import { type NodeConfig, nodeConfig } from "../config/mod.ts";
import { BearerAuth, createHandler, InFlightLimit, type StreamStats } from "../http/mod.ts";
import {
  type CacheEntryView,
  type CacheService,
  type ChangeEvent,
  checkEntry,
  checkKey,
  type ClusterTopology,
  ForwardStats,
  IncrOptions,
  KeyRouting,
  ListOptions,
  ListPage,
  MemberView,
  PurgeRequest,
  ReplicationEndpoints,
  SetOptions,
  WriteOptions,
} from "../service/mod.ts";
import {
  PeerAuth,
  Placement,
  type ReplicationTransport,
  Replicator,
  SIGNATURE_HEADER,
  storeBucketsFor,
} from "../replication/mod.ts";
import { type StoreRecord, TtlStore } from "../store/mod.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { HybridLogicalClock } from "../util/hlc.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { type Random, systemRandom } from "../util/random.ts";
import { Cluster } from "./cluster.ts";
import { NodeDashboard } from "./dashboard.ts";
import { NodeMetrics } from "../metrics/mod.ts";
import { VERSION } from "../util/version.ts";
import type { Keyring } from "../membership/mod.ts";
import {
  keyringOf,
  membershipConfigOf,
  peerAuthOf,
  readTlsMaterial,
  type TlsMaterial,
} from "./resolve.ts";
import { KvOperations } from "./kv.ts";
import { createReplicator, keyRouting } from "./replication.ts";
import type { NodeStats } from "./stats.ts";
import { listenError } from "../util/listen_error.ts";
import { EdgeCache } from "../edge/mod.ts";
import { startWorkerEdge, type WorkerEdge } from "./edge_workers.ts";

export type { NodeStats };

/** Collaborators a node can be given instead of the real ones (tests, simulations). */
export interface CacheNodeDeps {
  /** Time source for TTLs, versions and timers. @default systemClock */
  clock?: Clock;
  /** Where log lines go. @default silentLogger */
  logger?: Logger;
  /** Randomness for peer choice and jitter. @default systemRandom */
  random?: Random;
  /**
   * Wraps the replication transport (HTTP between nodes) on each start: the fault-injection
   * hook of tests (e.g. a `PartitionTransport` dropping traffic between chosen nodes).
   */
  wrapReplicationTransport?(transport: ReplicationTransport): ReplicationTransport;
}

/** A cache node: store + HTTP API (+ membership and replication when configured). */
export class CacheNode implements CacheService, AsyncDisposable {
  /** The validated configuration this node runs with. */
  readonly config: NodeConfig;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #store: TtlStore;
  readonly #hlc: HybridLogicalClock;
  readonly #deps: CacheNodeDeps;
  readonly #metrics: NodeMetrics;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #cluster: Cluster | undefined;
  #replicator: Replicator | undefined;
  #routing: KeyRouting | undefined;
  readonly #forwardStats: ForwardStats = { reads: 0, readRepairs: 0, writes: 0, failures: 0 };
  // Replication streams peers opened to us; closed on close() so the server can stop.
  readonly #streams = new Set<WebSocket>();
  readonly #streamStats: StreamStats = { refused: 0, closedUnread: 0 };
  readonly #inFlight: InFlightLimit;
  // With TLS: the PEM files read at start, and the client that trusts peers' certificates.
  #tls: TlsMaterial | undefined;
  #peerClient: Deno.HttpClient | undefined;
  // With a gossip key: signs and checks replication traffic (see replication/peer_auth.ts).
  #peerAuth: PeerAuth | undefined;
  #started = false;
  // Built once, so that its history outlives a close and a new start of this node.
  readonly #dashboard: NodeDashboard;
  readonly #kv: KvOperations;
  // The edge cache and its listener, when ORIGIN and EDGE_PORT are set.
  #edge: EdgeCache | undefined;
  #edgeServer: Deno.HttpServer<Deno.NetAddr> | undefined;
  // With WORKER: the user's module on EDGE_PORT (see edge_workers.ts).
  #workers: WorkerEdge | undefined;

  /** Creates a stopped node; `config` fields left out take their defaults. */
  constructor(config: Partial<NodeConfig> = {}, deps: CacheNodeDeps = {}) {
    this.config = nodeConfig(config);
    this.#clock = deps.clock ?? systemClock;
    // Every line this node logs names it as `node`; the member a line is about is `member`.
    this.#log = (deps.logger ?? silentLogger).child({ node: this.config.nodeName });
    this.#hlc = new HybridLogicalClock(this.#clock);
    this.#deps = deps;
    this.#metrics = new NodeMetrics(() => this.stats(), { clock: this.#clock });
    this.#inFlight = new InFlightLimit(this.config.maxInFlight);
    this.#store = new TtlStore({
      clock: this.#clock,
      maxBytes: this.config.maxMemoryBytes,
      tombstoneTtlMs: this.config.tombstoneTtlMs,
      digestBuckets: storeBucketsFor(this.config.replicas),
    });
    this.#kv = new KvOperations({
      name: this.config.nodeName,
      limits: this.limits,
      defaultTtlMs: this.config.defaultTtlMs,
      store: this.#store,
      now: () => this.#clock.now(),
      replicator: () => this.#replicator,
      write: (key, data, options) => this.#write(key, data, options),
      fetchPeer: (url, init) => this.#fetchPeer(url, init),
    });
    this.#dashboard = new NodeDashboard({
      self: this.config.nodeName,
      clock: this.#clock,
      replicas: this.config.replicas,
      stats: () => this.stats(),
      members: () => this.members(),
      readiness: () => this.readiness(),
      fetchPeer: (url, init) => this.#fetchPeer(url, init),
    });
  }

  /** Size limits enforced on keys and values. */
  get limits(): { maxKeyBytes: number; maxValueBytes: number } {
    return { maxKeyBytes: this.config.maxKeyBytes, maxValueBytes: this.config.maxValueBytes };
  }

  /** Store counters and digest, plus replication and membership counters in a cluster. */
  stats(): NodeStats {
    const stats: NodeStats = {
      node: this.config.nodeName,
      version: VERSION,
      store: { ...this.#store.stats(), digest: this.#store.digest() },
      http: {
        requests: this.#metrics.requestCount,
        ...this.#inFlight.stats(),
        streamsOpen: this.#streams.size,
        streamsRefused: this.#streamStats.refused,
        streamsClosedUnread: this.#streamStats.closedUnread,
      },
    };
    if (this.#replicator) stats.replication = this.#replicator.stats();
    if (this.#cluster) stats.membership = this.#cluster.stats();
    if (this.#routing) stats.forwarding = { ...this.#forwardStats };
    if (this.#edge) stats.edge = { ...this.#edge.stats };
    if (this.#workers) stats.workers = this.#workers.runtime.stats();
    return stats;
  }

  /** Partitioned mode: where keys live, for the API edge (`undefined` otherwise). */
  get routing(): KeyRouting | undefined {
    return this.#routing;
  }

  /**
   * Key placement as `GET /cluster/ring` shows it: in partitioned mode, copies per key, buckets
   * per member with the balance, and the owners of `key` if given (see `partitioning.ts`).
   */
  ring(key?: string): Record<string, unknown> {
    return this.#replicator?.distribution.ring(key) ??
      { replicas: "all", members: this.members().length };
  }

  /**
   * What a client routes by (`GET /cluster/topology`): the live members with their HTTP
   * addresses and every bucket's owners (the N copies, or the primary in full replication).
   */
  topology(): ClusterTopology {
    const self = this.config.nodeName;
    const table = this.#replicator?.distribution.ownerTable() ?? (() => {
      const alone = new Placement([self], 1, this.#store.bucketCount);
      const owners = alone.ownerTable();
      return { replicas: 0, buckets: alone.buckets, members: alone.members, perBucket: 1, owners };
    })();
    const known = new Map(this.members().map((m) => [m.name, m]));
    return {
      self,
      replicas: table.replicas,
      buckets: table.buckets,
      members: table.members.map((name) => {
        const m = known.get(name);
        return { name, host: m?.addr ?? "", httpPort: m?.httpPort ?? 0 };
      }),
      perBucket: table.perBucket,
      owners: table.owners,
    };
  }

  /** The node-to-node routes, while the node is in a cluster. */
  get replication(): ReplicationEndpoints | undefined {
    return this.#replicator;
  }

  /** The replication engine, while the node is in a cluster (tests, embedding). */
  get replicator(): Replicator | undefined {
    return this.#replicator;
  }

  /** The HTTP address once started with HTTP enabled. */
  get httpAddress(): Deno.NetAddr | undefined {
    return this.#server?.addr;
  }

  /**
   * The address of the listener on `EDGE_PORT` once started: the edge cache's (`origin` set), or
   * the worker runtime's (`worker` set).
   */
  get edgeAddress(): Deno.NetAddr | undefined {
    return this.#edgeServer?.addr ?? this.#workers?.addr;
  }

  /** The edge cache, while it runs (`origin` set, with `edgePort` or `worker`; see `src/edge/`). */
  get edge(): EdgeCache | undefined {
    return this.#edge;
  }

  /**
   * Loads the worker module again (SIGHUP): new requests go to the new version once it loaded,
   * requests in flight finish on the old one. Nothing happens without `worker`.
   */
  async reloadWorkers(): Promise<void> {
    await this.#workers?.runtime.reload();
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
    let keyring: Keyring | undefined;
    try {
      this.#tls = await readTlsMaterial(this.config);
      keyring = keyringOf(this.config);
      this.#peerAuth = await peerAuthOf(this.config, keyring, this.#clock);
    } catch (err) {
      this.#started = false;
      throw err;
    }
    if (this.#tls) this.#peerClient = Deno.createHttpClient({ caCerts: [this.#tls.ca] });
    this.#store.start();
    this.#metrics.start();
    if (options.cluster !== false) {
      const replicator = this.#replicator = this.#createReplicator();
      this.#routing = keyRouting(
        this.config,
        replicator,
        this.#forwardStats,
        (url, init) => this.#fetchPeer(url, init),
      );
    }
    const origin = this.config.origin;
    if (origin !== undefined && (this.config.edgePort !== undefined || this.config.worker)) {
      this.#edge = this.#createEdge(origin);
    }
    if (options.http !== false) {
      const token = this.config.authToken;
      const dashboard = this.#dashboard;
      dashboard.start();
      const handler = createHandler(this, {
        edge: () => this.#edge,
        streams: this.#streams,
        metrics: this.#metrics,
        auth: token ? new BearerAuth({ token, secureCookie: this.#tls !== undefined }) : undefined,
        peerAuth: this.#peerAuth,
        inFlight: this.#inFlight,
        bodyTimeoutMs: this.config.bodyTimeoutMs,
        streamLimits: { stats: this.#streamStats },
        dashboard: (scope) => scope === "local" ? dashboard.local() : dashboard.cluster(),
        onDashboardRequest: () => dashboard.countRequest(),
      });
      const listening = Promise.withResolvers<void>();
      const tls = this.#tls;
      try {
        this.#server = Deno.serve({
          hostname: this.config.bindAddr,
          port: this.config.httpPort,
          ...(tls ? { cert: tls.cert, key: tls.key } : {}),
          onListen: () => listening.resolve(),
          onError: (err) => {
            this.#log.error("http handler failed", { err });
            return new Response(JSON.stringify({ error: "Internal error" }), { status: 500 });
          },
        }, handler);
      } catch (err) {
        await this.close();
        throw listenError("HTTP", this.config.bindAddr, this.config.httpPort, err);
      }
      await listening.promise;
    }
    if (options.cluster !== false) {
      try {
        const replicator = this.#replicator!;
        this.#cluster = await Cluster.start({
          config: this.config,
          membership: membershipConfigOf(this.config),
          keyring,
          httpPort: this.#server?.addr.port ?? this.config.httpPort,
          clock: this.#clock,
          logger: this.#log,
          delegate: {
            localState: () => replicator.localState(),
            mergeRemoteState: (state) => replicator.mergeRemoteState(state),
          },
          onPeerUp: (peer) => replicator.peerUp(peer),
          onPeerDown: (name) => replicator.peerDown(name),
        });
        replicator.start();
      } catch (err) {
        await this.close();
        throw err;
      }
    }
    // EDGE_PORT serves the worker when there is one (its env.ORIGIN.fetch is the edge's cached
    // fetch), else the edge cache itself.
    if (this.#edge && !this.config.worker) await this.#serveEdge(this.#edge);
    if (this.config.worker) {
      try {
        const edge = this.#edge;
        this.#workers = await startWorkerEdge(
          this.config,
          this,
          this.#log,
          edge && ((request) => edge.fetch(request)),
        );
      } catch (err) {
        await this.close();
        throw err;
      }
    }
    this.#log.info("node started", {
      node: this.config.nodeName,
      version: VERSION,
      http: this.#server
        ? `${
          this.#tls ? "https" : "http"
        }://${this.#server.addr.hostname}:${this.#server.addr.port}`
        : "off",
      gossip: this.#cluster ? `${this.config.bindAddr}:${this.#cluster.gossipPort}` : "off",
      edge: this.#edgeServer
        ? `http://${this.#edgeServer.addr.hostname}:${this.#edgeServer.addr.port} → ${this.config.origin}`
        : "off",
      workers: this.#workers
        ? `http://${this.#workers.addr.hostname}:${this.#workers.addr.port} (${this.config.workerMode})`
        : "off",
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

  /**
   * Stores `value` under `key` with a new version and hands it to replication (unless `local`).
   * Resolves at once, or with `acks` once that many replicas hold it. Conditional writes
   * (`ifMatch`, `ifAbsent`) are decided by the key's primary owner (see `kv.ts`). Rejects with
   * an `InvalidInputError` past the limits of the HTTP API.
   */
  async set(key: string, value: string | Uint8Array, options: SetOptions = {}): Promise<void> {
    checkKey(key, this.config.maxKeyBytes);
    checkEntry(value, options, this.config.maxValueBytes);
    this.#kv.checkAcks(key, options);
    const apply = () => {
      const ttlMs = options.ttlMs ?? this.config.defaultTtlMs;
      const now = this.#clock.now();
      const data: Omit<StoreRecord, "version"> = {
        value,
        expiresAt: ttlMs > 0 ? now + ttlMs : 0,
      };
      if (options.metadata !== undefined) data.metadata = options.metadata;
      if (options.tags !== undefined && options.tags.length > 0) data.tags = options.tags;
      return this.#write(key, data, options);
    };
    if (options.ifMatch === undefined && !options.ifAbsent) return await apply();
    return await this.#kv.conditional(key, options, apply, value);
  }

  /**
   * Deletes `key` (idempotent); leaves a versioned tombstone so replicas cannot revive it. With
   * `ifMatch`, decided by the key's primary owner.
   */
  async delete(key: string, options: WriteOptions = {}): Promise<void> {
    checkKey(key, this.config.maxKeyBytes);
    this.#kv.checkAcks(key, options);
    const apply = () => this.#write(key, { value: null, expiresAt: 0 }, options);
    if (options.ifMatch === undefined && !options.ifAbsent) return await apply();
    return await this.#kv.conditional(key, options, apply);
  }

  #write(
    key: string,
    data: Omit<StoreRecord, "version">,
    options: WriteOptions,
  ): Promise<void> {
    const local = options.local === true;
    const record: StoreRecord = { ...data, version: this.#hlc.version(this.config.nodeName) };
    if (local) record.local = true;
    const result = this.#store.apply(key, record);
    if (result.error) return Promise.reject(result.error);
    if (local || !this.#replicator) return Promise.resolve();
    return this.#replicator.publish(key, record, options.acks, options.owners) ??
      Promise.resolve();
  }

  /**
   * A request of this node to a peer's API (the dashboard's `/dashboard/state?scope=local`): with the shared token,
   * and over HTTPS trusting the configured CAs when the cluster runs TLS.
   */
  #fetchPeer(url: string, init: RequestInit = {}): Promise<Response> {
    const token = this.config.authToken;
    const headers = new Headers(init.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    const client = this.#peerClient;
    if (!client) return fetch(url, { ...init, headers });
    return fetch(url.replace(/^http:/, "https:"), { ...init, headers, client });
  }

  #createEdge(origin: string): EdgeCache {
    return new EdgeCache({
      service: this,
      origin,
      defaultTtlMs: this.config.edgeDefaultTtlMs,
      originTimeoutMs: this.config.edgeOriginTimeoutMs,
      cacheCookies: this.config.edgeCacheCookies,
      primaryOf: (key) => this.#replicator?.primaryOf(key),
      askPeer: (peer, body) => {
        const headers: Record<string, string> = { "content-type": "application/json" };
        const signature = this.#peerAuth?.signRequest("POST", "/internal/edge", body);
        if (signature) headers[SIGNATURE_HEADER] = signature.header;
        const host = peer.host.includes(":") && !peer.host.startsWith("[")
          ? `[${peer.host}]`
          : peer.host;
        return this.#fetchPeer(`http://${host}:${peer.httpPort}/internal/edge`, {
          method: "POST",
          headers,
          body: body as BodyInit,
          signal: AbortSignal.timeout(this.config.edgeOriginTimeoutMs + 5000),
        });
      },
      onError: (message, err) => this.#log.warn(message, { err }),
    });
  }

  // The edge listener: its own Deno.serve on EDGE_PORT (TLS like the API when configured).
  async #serveEdge(edge: EdgeCache): Promise<void> {
    const listening = Promise.withResolvers<void>();
    const tls = this.#tls;
    const port = this.config.edgePort!;
    try {
      this.#edgeServer = Deno.serve({
        hostname: this.config.bindAddr,
        port,
        ...(tls ? { cert: tls.cert, key: tls.key } : {}),
        onListen: () => listening.resolve(),
        onError: (err) => {
          this.#log.error("edge handler failed", { err });
          return new Response(JSON.stringify({ error: "Edge failed" }), { status: 502 });
        },
      }, edge.handler());
    } catch (err) {
      await this.close();
      throw listenError("edge", this.config.bindAddr, port, err);
    }
    await listening.promise;
  }

  #createReplicator(): Replicator {
    return createReplicator(this.config, {
      store: this.#store,
      hlc: this.#hlc,
      clock: this.#clock,
      random: this.#deps.random ?? systemRandom,
      logger: this.#log,
      tls: this.#tls,
      peerAuth: this.#peerAuth,
      wrapTransport: this.#deps.wrapReplicationTransport,
      onList: (prefix, after, limit) => this.#kv.listHere(prefix, after, limit),
      onPurge: (request) => this.#kv.purgeHere(request, request.all),
    });
  }

  /** Adds to the counter at `key` on its primary owner; see {@link CacheService.incr}. */
  incr(key: string, options: IncrOptions = {}): Promise<number> {
    return this.#kv.incr(key, options);
  }

  /** A page of the cluster's keys; see {@link CacheService.list}. */
  list(options: ListOptions = {}): Promise<ListPage> {
    return this.#kv.list(options);
  }

  /** Deletes named or tagged entries everywhere; see {@link CacheService.purge}. */
  purge(request: PurgeRequest): Promise<number> {
    return this.#kv.purge(request);
  }

  /** Deletes every entry everywhere; see {@link CacheService.flush}. */
  flush(): Promise<number> {
    return this.#kv.purge({}, true);
  }

  /** Changes applied here from now on; see {@link CacheService.watch}. */
  watch(
    prefix: string,
    listener: (event: ChangeEvent) => void,
    onEnd?: () => void,
  ): () => void {
    return this.#kv.watch(prefix, listener, onEnd);
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

  /**
   * Ready once started, its edge listener (or worker pool) listening when one is configured,
   * and, when seeds are configured, joined to the cluster and holding a copy of the data set
   * from a peer.
   */
  readiness(): { ready: boolean; reason?: string } {
    if (!this.#started) return { ready: false, reason: "not started" };
    // The edge listener (or the worker pool) opens last: not ready until it listens.
    const edge = this.config.worker !== undefined ||
      (this.config.origin !== undefined && this.config.edgePort !== undefined);
    if (edge && this.edgeAddress === undefined) {
      return { ready: false, reason: "edge listener starting" };
    }
    const joined = this.#cluster?.readiness() ?? { ready: true };
    if (!joined.ready) return joined;
    return this.#replicator?.readiness() ?? { ready: true };
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
    const edgeServer = this.#edgeServer;
    this.#edgeServer = undefined;
    this.#edge = undefined;
    await edgeServer?.shutdown();
    const workers = this.#workers;
    this.#workers = undefined;
    await workers?.close();
    await this.#handOver();
    for (const socket of this.#streams) socket.close(1001, "node stopping");
    this.#streams.clear();
    // Open /watch streams never finish by themselves: end them, or shutdown would wait forever.
    this.#kv.endWatches();
    // Leave first (others see "left", not "dead"), while in-flight requests finish: they may
    // still need replication (acknowledged writes, forwarded reads), which stops after them.
    await Promise.all([
      cluster?.leaveAndShutdown().catch((err) => this.#log.warn("leave failed", { err })),
      server?.shutdown(),
    ]);
    // Writes still queued are abandoned: peers repair them from each other by anti-entropy.
    this.#replicator?.close();
    this.#replicator = undefined;
    this.#routing = undefined;
    this.#store.stop();
    this.#metrics.stop();
    this.#dashboard.stop();
    this.#peerClient?.close();
    this.#peerClient = undefined;
    this.#log.info("node stopped", { node: this.config.nodeName });
  }

  // Partitioned mode: the buckets this node owns go to their next owners before it leaves (the
  // node keeps serving meanwhile; /readyz already says it is stopping), for a bounded time.
  async #handOver(): Promise<void> {
    const started = this.#clock.now();
    const outcome = await this.#replicator?.leave();
    if (outcome === undefined) return;
    this.#log.info("handed buckets over before leaving", {
      outcome,
      ms: this.#clock.now() - started,
    });
  }

  /** Same as {@link CacheNode.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
