/**
 * The node's configuration as data: the documented {@link NodeConfig} type, its defaults (the
 * one place they are stated; replication reads its own from here) and {@link ConfigError}.
 * Gossip keys and the gossip preset stay plain data here (base64 text, a profile name and
 * overrides); the node turns them into a keyring and a membership config once per start.
 *
 * @module
 */

/** Log verbosity, most verbose first. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** Log line format. */
export type LogFormat = "text" | "json";

/** How fast-path replication batches travel between nodes. */
export type ReplicationChannel = "websocket" | "http";

/** Everything a cache node needs to start. */
export interface NodeConfig {
  /** Unique member name in the cluster. @default host name + "-" + gossip port */
  nodeName: string;
  /** Gossip port (UDP and TCP). `0` picks a free port. @default 7946 */
  gossipPort: number;
  /** HTTP API port. `0` picks a free port. @default 8000 */
  httpPort: number;
  /** Address both servers bind to. @default "127.0.0.1" */
  bindAddr: string;
  /** Address announced to peers, when it differs from `bindAddr` (NAT, containers). */
  advertiseAddr?: string;
  /**
   * Where to find existing members to join through: gossip addresses (`host:port`) and DNS
   * names, `dns:<name>:<port>` (every A/AAAA address of the name, on that port) or
   * `dns+srv:<name>` (the targets and ports of its SRV records), re-resolved every
   * `peersRefreshMs`. @default []
   */
  peers: string[];
  /**
   * HTTP addresses (`host:port`) of peers whose HTTP port differs from this node's. Only
   * `deno task run:strict` reads it, to grant them (`--allow-net`): a node learns its peers'
   * HTTP ports by gossip, after start, and Deno's permissions are fixed at start. @default []
   */
  peerHttp: string[];
  /** Byte budget of the store (keys + values + per-entry overhead); `0` = unlimited. @default 256 MiB */
  maxMemoryBytes: number;
  /** Longest accepted key, in UTF-8 bytes after percent-decoding. @default 1024 */
  maxKeyBytes: number;
  /** Largest accepted value, in bytes. @default 4 MiB */
  maxValueBytes: number;
  /** TTL for writes that give none, in ms; `0` = no expiry (live until evicted). @default 0 */
  defaultTtlMs: number;
  /**
   * Most HTTP requests handled at once (all routes but `/healthz` and `/readyz`); beyond it a
   * request gets 503 with `Retry-After: 1` at once. Bounds the memory of bodies being read
   * (up to this × (`maxValueBytes` + 64 KiB)) and keeps latency for the requests admitted.
   * @default 512
   */
  maxInFlight: number;
  /**
   * Deadline for receiving a request body, ms: a body still incomplete then gets 408, so a
   * client that stalls mid-body gives its request slot back (Deno.serve keeps its connection
   * until the client finishes or leaves). @default 30000
   */
  bodyTimeoutMs: number;
  /** Least severe level that is logged. @default "info" */
  logLevel: LogLevel;
  /** `text` for people, `json` for log pipelines. @default "text" */
  logFormat: LogFormat;
  /** Gossip timing preset, memberlist's Local/LAN/WAN configs. @default "lan" */
  gossipProfile: GossipProfile;
  /** Overrides of the preset's gossip settings (durations in ms). @default {} */
  gossip: GossipOverrides;
  /**
   * How long a write with `X-Write-Acks` waits for its replicas before answering 504, ms.
   * @default 2000
   */
  writeAckTimeoutMs: number;
  /**
   * Period of anti-entropy rounds (digest comparison with one random peer, then repair of the
   * differing buckets), ms. Shorter repairs missed writes sooner at the cost of a digest
   * exchange (8 KiB each way) per period. @default 5000
   */
  antiEntropyIntervalMs: number;
  /**
   * Deadline of one replication request to a peer (a batch, or one chunk of a sync), ms. A hung
   * peer costs at most this before its sender backs off. @default 3000
   */
  replicationTimeoutMs: number;
  /**
   * Most bytes of writes queued for one peer; past it the peer's backlog is dropped (counted)
   * and left to anti-entropy. @default 64 MiB
   */
  replicationBacklogBytes: number;
  /**
   * Extra wait before sending a batch to a peer, ms; `0` sends as soon as the previous batch to
   * that peer is answered (batches still form under load). @default 0
   */
  replicationFlushDelayMs: number;
  /**
   * How fast-path batches reach peers: `websocket` (one socket per peer on its API port, about a
   * third of the CPU per batch of `http`) or `http` (one POST per batch, for networks whose
   * proxies do not pass WebSocket upgrades). Repairs and transfers always use HTTP.
   * @default "websocket"
   */
  replicationChannel: ReplicationChannel;
  /**
   * Copies of each key: `0` (`REPLICAS=all`) means every node holds the whole data set (full
   * replication); `N` spreads keys over the live members, `N` owners per key (partitioned mode;
   * every node of a cluster must use the same setting). @default 0 (all)
   */
  replicas: number;
  /**
   * How long a delete's tombstone is kept after the delete (at least), ms. It must outlive
   * several anti-entropy rounds (at least 10 × `antiEntropyIntervalMs`), or a replica that missed
   * the delete could bring the value back. @default 10 minutes
   */
  tombstoneTtlMs: number;
  /**
   * Gossip encryption key: base64 of 16, 24 or 32 bytes (AES-128/192/256), memberlist's
   * `SecretKey`. It encrypts what this node sends; with `secretKeys` it is the primary key.
   */
  secretKey?: string;
  /**
   * Keyring for rotation without downtime: every key decrypts; the first (after `secretKey`)
   * encrypts when `secretKey` is unset. @default []
   */
  secretKeys: string[];
  /** With a key: refuse unencrypted gossip (false only while migrating a cluster). @default true */
  gossipVerifyIncoming: boolean;
  /** With a key: encrypt what is sent (false only while migrating a cluster). @default true */
  gossipVerifyOutgoing: boolean;
  /**
   * Cluster label (memberlist ≥ 0.3): packets and streams carry it and a node drops traffic with
   * another label, so two clusters on one network stay apart. Empty: no label. @default ""
   */
  gossipLabel: string;
  /**
   * Bearer token of the HTTP API: when set, every route but `/healthz`, `/readyz`,
   * `/openapi.json` and the dashboard page needs `Authorization: Bearer <token>` (else 401), and
   * this node sends it on its own replication requests, so every node of a cluster needs the
   * same token. 16 or more token68 characters (`openssl rand -base64 32`). Unset: no auth.
   */
  authToken?: string;
  /**
   * PEM certificate (chain) file: with `tlsKey`, the HTTP API and replication are served over
   * HTTPS/WSS, and this node speaks HTTPS/WSS to its peers (a cluster is all TLS or none).
   * The process needs read access to exactly this file and `tlsKey` (and `tlsCa`).
   */
  tlsCert?: string;
  /** PEM private key file of `tlsCert` (RSA, EC or PKCS#8). */
  tlsKey?: string;
  /**
   * PEM file of the certificate authorities that sign peers' certificates, trusted (besides
   * the system roots and Deno's `DENO_CERT`) when this node connects to peers. Unset: the node's
   * own `tlsCert` is trusted, which is enough when every node uses the same self-signed
   * certificate.
   */
  tlsCa?: string;
  /**
   * DNS discovery: period of re-resolving the `dns:`/`dns+srv:` entries of `peers`, ms; new
   * addresses are joined. @default 30000
   */
  peersRefreshMs: number;
  /**
   * DNS discovery: the DNS server asked (`ip:port`, e.g. `127.0.0.1:5353`). Unset: the system
   * resolver (`/etc/resolv.conf`).
   */
  dnsServer?: string;
  // Edge (issue 20) and edge workers (issue 21).
  /** Origin server of the edge (`http(s)://host[:port]`): `env.ORIGIN.fetch` of a worker goes there. */
  origin?: string;
  /** Port of the edge listener (the worker runtime when `worker` is set). `0` picks a free port. */
  edgePort?: number;
  /**
   * Path of a Workers-style module (`export default { fetch(request, env, ctx) }`) served on
   * `edgePort` in a pool of permission-scoped Deno workers. Unset: no worker runtime.
   */
  worker?: string;
  /** KV binding names besides `CACHE`, each its own key namespace (`kv:<NAME>:`). @default [] */
  workerKv: string[];
  /** JSON object of the worker's vars (`env.<NAME>`, as strings). @default none */
  workerVars?: string;
  /** A `wrangler.toml`/`.json`/`.jsonc` whose `kv_namespaces[].binding` and `vars` are used. */
  workerConfig?: string;
  /** Deno workers in the pool; `0` = one per core. @default 0 */
  workerPool: number;
  /** Hosts (`host` or `host:port`) the worker may fetch, besides the origin. @default [] */
  workerAllowNet: string[];
  /** Wall-clock deadline of one worker request, ms; past it 503 and the worker is replaced. @default 30000 */
  workerTimeoutMs: number;
  /** Reload the worker when a file of its folder changes. @default false */
  workerReload: boolean;
  /**
   * Memory the workers may add to the process (resident set over its level at start), bytes;
   * past it the busy workers are terminated and replaced (Deno has no per-worker heap limit,
   * see README "Edge workers"). `0` = unchecked. @default 512 MiB
   */
  workerMemoryBytes: number;
  // The edge cache's own settings (issue 20).
  /**
   * Freshness of an origin response that gives none (no `max-age`, `s-maxage`, `Expires`), ms;
   * `0` = such responses are not stored. @default 0
   */
  edgeDefaultTtlMs: number;
  /** Deadline of one origin request (headers), ms: past it, stale if allowed, else 504. @default 10 s */
  edgeOriginTimeoutMs: number;
  /**
   * Names of the cookies a request may carry and still be served from the cache (e.g.
   * analytics cookies the origin ignores); any other cookie makes the request a BYPASS.
   * @default [] (any cookie bypasses)
   */
  edgeCacheCookies: string[];
  /**
   * How worker requests arrive: `pool`, the node owns `edgePort` and hands each request to the
   * least busy worker (a stuck handler is answered 503); `direct`, each worker listens on
   * `edgePort` itself (`SO_REUSEPORT`): no hop per request, but a stuck handler's connections are
   * closed rather than answered (README "Edge workers"). @default "pool"
   */
  workerMode: "pool" | "direct";
  /**
   * What a worker runs in: `thread`, a Deno worker in the node's process (a thread stuck in
   * synchronous code cannot be stopped: Deno's `terminate()` leaves it spinning), or `process`,
   * a `deno` process the node kills when stuck, with its own heap limit. Direct mode always runs
   * processes. @default "thread"
   */
  workerIsolation: "thread" | "process";
}

/** Names of the gossip timing presets (memberlist's Local/LAN/WAN configs). */
export type GossipProfile = "local" | "lan" | "wan";

/**
 * The gossip settings that can be set by env var or flag, over the chosen preset: the
 * membership config's fields of the same names (durations in ms).
 */
export interface GossipOverrides {
  /** Period of the gossip loop, ms. */
  gossipInterval?: number;
  /** Members gossiped to per round. */
  gossipNodes?: number;
  /** Period of the probe loop, ms. */
  probeInterval?: number;
  /** Wait for a direct ack before indirect probes, ms. */
  probeTimeout?: number;
  /** Suspicion timeout multiplier. */
  suspicionMult?: number;
  /** Broadcast retransmit multiplier. */
  retransmitMult?: number;
  /** Period of the full-state exchange, ms. */
  pushPullInterval?: number;
  /** Helpers asked for an indirect probe. */
  indirectChecks?: number;
  /** How long dead members are still gossiped to, ms. */
  gossipToTheDeadTime?: number;
  /** Most members tracked. */
  maxMembers?: number;
}

/** Defaults of every field but `nodeName`, which depends on the host. */
export const DEFAULT_CONFIG: Readonly<Omit<NodeConfig, "nodeName">> = Object.freeze({
  gossipPort: 7946,
  httpPort: 8000,
  bindAddr: "127.0.0.1",
  peers: [],
  peerHttp: [],
  maxMemoryBytes: 256 * 1024 * 1024,
  maxKeyBytes: 1024,
  maxValueBytes: 4 * 1024 * 1024,
  defaultTtlMs: 0,
  maxInFlight: 512,
  bodyTimeoutMs: 30_000,
  logLevel: "info",
  logFormat: "text",
  gossipProfile: "lan",
  gossip: {},
  writeAckTimeoutMs: 2000,
  antiEntropyIntervalMs: 5000,
  replicationTimeoutMs: 3000,
  replicationBacklogBytes: 64 * 1024 * 1024,
  replicationFlushDelayMs: 0,
  replicationChannel: "websocket",
  replicas: 0,
  tombstoneTtlMs: 600_000,
  secretKeys: [],
  gossipVerifyIncoming: true,
  gossipVerifyOutgoing: true,
  gossipLabel: "",
  peersRefreshMs: 30_000,
  workerKv: [],
  workerPool: 0,
  workerAllowNet: [],
  workerTimeoutMs: 30_000,
  workerReload: false,
  workerMemoryBytes: 512 * 1024 * 1024,
  workerMode: "pool",
  workerIsolation: "thread",
  edgeDefaultTtlMs: 0,
  edgeOriginTimeoutMs: 10_000,
  edgeCacheCookies: [],
});

/**
 * Builds a complete config from defaults plus `overrides` (for embedding and tests). Defaults
 * that depend on another setting follow it: without `maxValueBytes`, the value limit is the
 * default one or `maxMemoryBytes` when that is smaller (a store budget below 4 MiB alone is valid).
 */
export function nodeConfig(overrides: Partial<NodeConfig> = {}): NodeConfig {
  const gossipPort = overrides.gossipPort ?? DEFAULT_CONFIG.gossipPort;
  const maxMemoryBytes = overrides.maxMemoryBytes ?? DEFAULT_CONFIG.maxMemoryBytes;
  return {
    ...DEFAULT_CONFIG,
    peers: [...DEFAULT_CONFIG.peers],
    peerHttp: [...DEFAULT_CONFIG.peerHttp],
    workerKv: [...DEFAULT_CONFIG.workerKv],
    workerAllowNet: [...DEFAULT_CONFIG.workerAllowNet],
    edgeCacheCookies: [...DEFAULT_CONFIG.edgeCacheCookies],
    gossip: {},
    nodeName: `node-${gossipPort}`,
    maxValueBytes: maxMemoryBytes > 0
      ? Math.min(DEFAULT_CONFIG.maxValueBytes, maxMemoryBytes)
      : DEFAULT_CONFIG.maxValueBytes,
    ...overrides,
  };
}

/** A config value that cannot be used; `main.ts` prints the message and exits 2. */
export class ConfigError extends Error {
  /** @param message one line naming the variable, the value and what is allowed */
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}
