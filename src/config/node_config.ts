/**
 * The node's configuration: one documented type, its defaults, and the loader that reads env vars
 * and command-line flags (flags win) into it. Every bad value is reported with the variable, the
 * value and what is allowed, so `main.ts` can print one line and exit 2.
 *
 * @module
 */

import {
  MEMBERSHIP_PROFILES,
  type MembershipConfig,
  type MembershipProfile,
  validateMembershipConfig,
} from "../membership/config.ts";
import { keyringFromConfig } from "../membership/keyring.ts";
import { parseBytes, parseDuration } from "./units.ts";

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
  /** Gossip addresses (`host:port`) of existing members to join through. @default [] */
  peers: string[];
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
  gossipProfile: MembershipProfile;
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
}

/** The gossip settings that can be set by env var or flag, over the chosen preset. */
export type GossipOverrides = Partial<
  Pick<
    MembershipConfig,
    | "gossipInterval"
    | "gossipNodes"
    | "probeInterval"
    | "probeTimeout"
    | "suspicionMult"
    | "retransmitMult"
    | "pushPullInterval"
    | "indirectChecks"
    | "gossipToTheDeadTime"
    | "maxMembers"
  >
>;

/** Defaults of every field but `nodeName`, which depends on the host. */
export const DEFAULT_CONFIG: Readonly<Omit<NodeConfig, "nodeName">> = Object.freeze({
  gossipPort: 7946,
  httpPort: 8000,
  bindAddr: "127.0.0.1",
  peers: [],
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
});

/** Builds a complete config from defaults plus `overrides` (for embedding and tests). */
export function nodeConfig(overrides: Partial<NodeConfig> = {}): NodeConfig {
  const gossipPort = overrides.gossipPort ?? DEFAULT_CONFIG.gossipPort;
  return {
    ...DEFAULT_CONFIG,
    peers: [...DEFAULT_CONFIG.peers],
    gossip: {},
    nodeName: `node-${gossipPort}`,
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

type Parsed = string | number | boolean | string[];

/** How one setting is read: its env vars, its flag, its parser and what it allows. */
interface OptionSpec {
  field: keyof NodeConfig | `gossip.${keyof GossipOverrides}`;
  env: readonly string[];
  flag: string;
  allowed: string;
  /** Error messages show the value's length, never the value. @default false */
  secret?: boolean;
  parse(text: string): Parsed | undefined;
}

const PORT_RE = /^\d{1,5}$/;
// RFC 6750's token68, so the token fits an Authorization header, a cookie and a query as is.
const AUTH_TOKEN_RE = /^[A-Za-z0-9\-._~+/]{16,4096}=*$/;

function parsePort(text: string): number | undefined {
  const n = Number(text);
  return PORT_RE.test(text.trim()) && n <= 65535 ? n : undefined;
}

function parsePositiveBytes(text: string): number | undefined {
  const n = parseBytes(text);
  return n !== undefined && n > 0 ? n : undefined;
}

function parseHost(text: string): string | undefined {
  const t = text.trim();
  return /^[A-Za-z0-9.\-:_%\[\]]+$/.test(t) ? t.replace(/^\[(.*)\]$/, "$1") : undefined;
}

function parsePeerList(text: string): string[] | undefined {
  const peers = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  const valid = peers.every((p) => /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-_]+)(:\d{1,5})?$/.test(p));
  return valid ? peers : undefined;
}

function oneOf<T extends string>(values: readonly T[]) {
  return (text: string): T | undefined => {
    const t = text.trim().toLowerCase() as T;
    return values.includes(t) ? t : undefined;
  };
}

function parseBool(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  return ["true", "1", "yes"].includes(t)
    ? true
    : ["false", "0", "no"].includes(t)
    ? false
    : undefined;
}

function parseCount(text: string): number | undefined {
  const t = text.trim();
  return /^\d{1,6}$/.test(t) && Number(t) > 0 ? Number(t) : undefined;
}

function parsePositiveDuration(text: string): number | undefined {
  const ms = parseDuration(text);
  return ms !== undefined && ms > 0 ? Math.round(ms) : undefined;
}

const GOSSIP_SPECS: readonly OptionSpec[] = (
  [
    ["gossipInterval", "GOSSIP_INTERVAL", "duration"],
    ["gossipNodes", "GOSSIP_NODES", "count"],
    ["probeInterval", "PROBE_INTERVAL", "duration"],
    ["probeTimeout", "PROBE_TIMEOUT", "duration"],
    ["suspicionMult", "SUSPICION_MULT", "count"],
    ["retransmitMult", "RETRANSMIT_MULT", "count"],
    ["pushPullInterval", "PUSH_PULL_INTERVAL", "duration"],
    ["indirectChecks", "INDIRECT_CHECKS", "count"],
    ["gossipToTheDeadTime", "GOSSIP_TO_DEAD_TIME", "duration"],
    ["maxMembers", "MAX_MEMBERS", "count"],
  ] as const
).map(([field, env, kind]) => ({
  field: `gossip.${field}` as const,
  env: [env],
  flag: `--${env.toLowerCase().replaceAll("_", "-")}`,
  allowed: kind === "count"
    ? "a positive integer"
    : "a positive duration such as 200ms, 1.5s, 1m or plain milliseconds",
  parse: kind === "count" ? parseCount : parsePositiveDuration,
}));

/** The settings table: env vars, flags and validation for every field. */
export const OPTION_SPECS: readonly OptionSpec[] = [
  {
    field: "gossipPort",
    env: ["PORT"],
    flag: "--port",
    allowed: "a port 0..65535",
    parse: parsePort,
  },
  {
    field: "httpPort",
    env: ["HTTP_PORT"],
    flag: "--http-port",
    allowed: "a port 0..65535",
    parse: parsePort,
  },
  {
    field: "nodeName",
    env: ["NODE_NAME"],
    flag: "--node-name",
    allowed: "1..128 characters, no spaces or control characters",
    parse: (t) => (/^[^\s\p{Cc}]{1,128}$/u.test(t) ? t : undefined),
  },
  {
    field: "peers",
    env: ["PEER", "PEERS"],
    flag: "--peers",
    allowed: "comma-separated host:port addresses",
    parse: parsePeerList,
  },
  {
    field: "bindAddr",
    env: ["BIND_ADDR"],
    flag: "--bind-addr",
    allowed: "an IP address or host name",
    parse: parseHost,
  },
  {
    field: "advertiseAddr",
    env: ["ADVERTISE_ADDR"],
    flag: "--advertise-addr",
    allowed: "an IP address or host name",
    parse: parseHost,
  },
  {
    field: "maxMemoryBytes",
    env: ["MAX_MEMORY"],
    flag: "--max-memory",
    allowed: "bytes, optionally with a unit: 0 (unlimited), 1048576, 64mb, 1gb",
    parse: parseBytes,
  },
  {
    field: "maxKeyBytes",
    env: ["MAX_KEY_BYTES"],
    flag: "--max-key-bytes",
    allowed: "a positive byte count, e.g. 1024 or 1kb",
    parse: parsePositiveBytes,
  },
  {
    field: "maxValueBytes",
    env: ["MAX_VALUE_BYTES"],
    flag: "--max-value-bytes",
    allowed: "a positive byte count, e.g. 4mb",
    parse: parsePositiveBytes,
  },
  {
    field: "defaultTtlMs",
    env: ["DEFAULT_TTL"],
    flag: "--default-ttl",
    allowed: "a duration such as 300ms, 1.5s, 2m, 1h or plain milliseconds; 0 = no expiry",
    parse: parseDuration,
  },
  {
    field: "maxInFlight",
    env: ["MAX_IN_FLIGHT"],
    flag: "--max-in-flight",
    allowed: "a positive integer (requests handled at once)",
    parse: parseCount,
  },
  {
    field: "bodyTimeoutMs",
    env: ["BODY_TIMEOUT"],
    flag: "--body-timeout",
    allowed: "a positive duration such as 10s, 30s, 1m or plain milliseconds",
    parse: parsePositiveDuration,
  },
  {
    field: "logLevel",
    env: ["LOG_LEVEL"],
    flag: "--log-level",
    allowed: "debug, info, warn or error",
    parse: oneOf(["debug", "info", "warn", "error"] as const),
  },
  {
    field: "logFormat",
    env: ["LOG_FORMAT"],
    flag: "--log-format",
    allowed: "text or json",
    parse: oneOf(["text", "json"] as const),
  },
  {
    field: "gossipProfile",
    env: ["GOSSIP_PROFILE"],
    flag: "--gossip-profile",
    allowed: "local, lan or wan",
    parse: oneOf(["local", "lan", "wan"] as const),
  },
  ...GOSSIP_SPECS,
  {
    field: "writeAckTimeoutMs",
    env: ["WRITE_ACK_TIMEOUT"],
    flag: "--write-ack-timeout",
    allowed: "a positive duration such as 500ms, 2s or plain milliseconds",
    parse: parsePositiveDuration,
  },
  {
    field: "antiEntropyIntervalMs",
    env: ["ANTI_ENTROPY_INTERVAL"],
    flag: "--anti-entropy-interval",
    allowed: "a positive duration such as 500ms, 5s, 1m or plain milliseconds",
    parse: parsePositiveDuration,
  },
  {
    field: "replicationTimeoutMs",
    env: ["REPLICATION_TIMEOUT"],
    flag: "--replication-timeout",
    allowed: "a positive duration such as 500ms, 3s or plain milliseconds",
    parse: parsePositiveDuration,
  },
  {
    field: "replicationBacklogBytes",
    env: ["REPLICATION_BACKLOG"],
    flag: "--replication-backlog",
    allowed: "a positive byte count, e.g. 64mb",
    parse: parsePositiveBytes,
  },
  {
    field: "replicationFlushDelayMs",
    env: ["REPLICATION_FLUSH_DELAY"],
    flag: "--replication-flush-delay",
    allowed: "a duration such as 0, 1ms or 2ms",
    parse: (t) => {
      const ms = parseDuration(t);
      return ms !== undefined && ms <= 1000 ? ms : undefined;
    },
  },
  {
    field: "replicationChannel",
    env: ["REPLICATION_CHANNEL"],
    flag: "--replication-channel",
    allowed: "websocket or http",
    parse: oneOf(["websocket", "http"] as const),
  },
  {
    field: "replicas",
    env: ["REPLICAS"],
    flag: "--replicas",
    allowed: "all, or a number of copies per key from 1 to 100",
    parse: (t) => {
      const v = t.trim().toLowerCase();
      if (v === "all") return 0;
      return /^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 100 ? Number(v) : undefined;
    },
  },
  {
    field: "tombstoneTtlMs",
    env: ["TOMBSTONE_TTL"],
    flag: "--tombstone-ttl",
    allowed: "a positive duration such as 10m or 1h",
    parse: parsePositiveDuration,
  },
  {
    field: "secretKey",
    env: ["SECRET_KEY"],
    flag: "--secret-key",
    allowed: "base64 of 16, 24 or 32 bytes",
    parse: (t) => t.trim(),
  },
  {
    field: "secretKeys",
    env: ["SECRET_KEYS"],
    flag: "--secret-keys",
    allowed: "comma-separated base64 keys of 16, 24 or 32 bytes",
    parse: (t) => t.split(",").map((k) => k.trim()).filter((k) => k !== ""),
  },
  {
    field: "gossipVerifyIncoming",
    env: ["GOSSIP_VERIFY_INCOMING"],
    flag: "--gossip-verify-incoming",
    allowed: "true or false",
    parse: parseBool,
  },
  {
    field: "gossipVerifyOutgoing",
    env: ["GOSSIP_VERIFY_OUTGOING"],
    flag: "--gossip-verify-outgoing",
    allowed: "true or false",
    parse: parseBool,
  },
  {
    field: "gossipLabel",
    env: ["GOSSIP_LABEL"],
    flag: "--gossip-label",
    allowed: "1..255 bytes of text",
    parse: (t) => (new TextEncoder().encode(t).length <= 255 ? t : undefined),
  },
  {
    field: "authToken",
    env: ["AUTH_TOKEN"],
    flag: "--auth-token",
    allowed: "16 to 4096 characters of A-Z a-z 0-9 - . _ ~ + / (then optional =), " +
      "e.g. from openssl rand -base64 32",
    secret: true,
    parse: (t) => (AUTH_TOKEN_RE.test(t) ? t : undefined),
  },
  ...([
    ["tlsCert", "TLS_CERT", "PEM certificate (chain)"],
    ["tlsKey", "TLS_KEY", "PEM private key"],
    ["tlsCa", "TLS_CA", "PEM certificate authorities"],
  ] as const).map(([field, env, what]): OptionSpec => ({
    field,
    env: [env],
    flag: `--${env.toLowerCase().replaceAll("_", "-")}`,
    allowed: `the path of a readable ${what} file`,
    parse: (t) => t.trim(),
  })),
];

/** The env vars the loader reads (the run task grants `--allow-env` for exactly these). */
export const CONFIG_ENV_VARS: readonly string[] = OPTION_SPECS.flatMap((s) => s.env);

/** Where the loader reads from; injectable so tests need no real environment. */
export interface ConfigSources {
  /** Reads one env var (`undefined` when unset). */
  env(name: string): string | undefined;
  /** Command-line arguments (`--http-port 8000` or `--http-port=8000`). */
  args: readonly string[];
  /** The host name for the default node name. */
  hostname(): string;
  /** Reads a file named by the config (TLS files). @default Deno.readTextFileSync */
  readTextFile?(path: string): string;
}

function describe(name: string, value: string, spec: OptionSpec): ConfigError {
  const given = spec.secret
    ? ` (${value.length} characters, not shown)`
    : `=${JSON.stringify(value)}`;
  return new ConfigError(`Invalid ${name}${given}: expected ${spec.allowed}`);
}

function readFlags(args: readonly string[]): Map<OptionSpec, string> {
  const found = new Map<OptionSpec, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const spec = OPTION_SPECS.find((s) =>
      s.flag === flag || (flag === "--peer" && s.field === "peers")
    );
    if (!spec) {
      throw new ConfigError(
        `Invalid argument ${JSON.stringify(arg)}: expected one of ${
          OPTION_SPECS.map((s) => s.flag).join(", ")
        } (see --help)`,
      );
    }
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined) {
      throw new ConfigError(`Invalid ${flag}: missing value: expected ${spec.allowed}`);
    }
    if (spec.field === "peers" && found.has(spec)) value = `${found.get(spec)},${value}`;
    found.set(spec, value);
  }
  return found;
}

/**
 * Reads the config from env vars and flags (flags win over env vars; `PEER` and `PEERS` are
 * merged). Throws a {@link ConfigError} naming the first bad variable or flag.
 */
export function loadConfig(sources: ConfigSources): NodeConfig {
  const flags = readFlags(sources.args);
  const values: Partial<Record<OptionSpec["field"], Parsed>> = {};
  const sourceOf = new Map<string, string>();
  for (const spec of OPTION_SPECS) {
    const flagValue = flags.get(spec);
    const inputs: [string, string][] = flagValue !== undefined
      ? [[spec.flag, flagValue]]
      : spec.env.flatMap((name): [string, string][] => {
        const v = sources.env(name);
        return v === undefined || v.trim() === "" ? [] : [[name, v]];
      });
    for (const [name, text] of inputs) {
      const parsed = spec.parse(text);
      if (parsed === undefined) throw describe(name, text, spec);
      sourceOf.set(spec.field, `${name}=${JSON.stringify(text)}`);
      const prior = values[spec.field];
      values[spec.field] = Array.isArray(prior) && Array.isArray(parsed)
        ? [...new Set([...prior, ...parsed])]
        : parsed;
    }
  }
  const gossipPort = (values.gossipPort as number | undefined) ?? DEFAULT_CONFIG.gossipPort;
  const gossip: Record<string, number> = {};
  for (const [field, value] of Object.entries(values)) {
    if (field.startsWith("gossip.")) {
      gossip[field.slice("gossip.".length)] = value as number;
      delete values[field as OptionSpec["field"]];
    }
  }
  const config = nodeConfig({
    ...(values as Partial<NodeConfig>),
    gossip: gossip as GossipOverrides,
    nodeName: (values.nodeName as string | undefined) ?? `${sources.hostname()}-${gossipPort}`,
  });
  if (config.maxMemoryBytes > 0 && config.maxValueBytes > config.maxMemoryBytes) {
    throw new ConfigError(
      `Invalid MAX_VALUE_BYTES=${config.maxValueBytes}: expected at most MAX_MEMORY (${config.maxMemoryBytes})`,
    );
  }
  try {
    keyringFromConfig(config, { secretKey: "SECRET_KEY", secretKeys: "SECRET_KEYS" });
  } catch (err) {
    // The message names the variable and the decoded length, never the key itself.
    throw new ConfigError(
      `Invalid ${(err as Error).message.replace("Cannot build keyring: ", "")}`,
    );
  }
  checkTlsFiles(config, sources.readTextFile ?? Deno.readTextFileSync);
  if (config.tombstoneTtlMs < 10 * config.antiEntropyIntervalMs) {
    const given = sourceOf.get("tombstoneTtlMs") ?? `TOMBSTONE_TTL=${config.tombstoneTtlMs}`;
    throw new ConfigError(
      `Invalid ${given}: expected at least 10 × ANTI_ENTROPY_INTERVAL (${
        10 * config.antiEntropyIntervalMs
      } ms), so deletes outlive anti-entropy`,
    );
  }
  try {
    membershipConfigOf(config);
  } catch (err) {
    // The preset plus overrides must also agree with each other (e.g. probe timeout < interval).
    const field = Object.keys(config.gossip).find((f) => (err as Error).message.includes(f));
    const given = field ? sourceOf.get(`gossip.${field}`) : undefined;
    throw new ConfigError(
      `Invalid ${given ?? `GOSSIP_PROFILE=${config.gossipProfile}`}: ${(err as Error).message}`,
    );
  }
  return config;
}

const PEM_CERT = "-----BEGIN CERTIFICATE-----";
const PEM_KEY = /-----BEGIN ([A-Z]+ )?PRIVATE KEY-----/;

/**
 * Checks that the TLS settings come as a pair and that each file can be read and looks like
 * PEM, so a node that could not serve HTTPS stops at start (exit 2) instead of at its first
 * connection. The error names the variable and what to grant.
 */
function checkTlsFiles(config: NodeConfig, read: (path: string) => string): void {
  const { tlsCert, tlsKey, tlsCa } = config;
  if (tlsCert === undefined && tlsKey === undefined) {
    if (tlsCa !== undefined) {
      throw new ConfigError(
        `Invalid TLS_CA=${JSON.stringify(tlsCa)}: TLS_CERT and TLS_KEY must be set too`,
      );
    }
    return;
  }
  if (tlsCert === undefined || tlsKey === undefined) {
    const [given, missing] = tlsCert === undefined
      ? ["TLS_KEY", "TLS_CERT"]
      : ["TLS_CERT", "TLS_KEY"];
    throw new ConfigError(
      `Invalid ${given}=${JSON.stringify(tlsCert ?? tlsKey)}: ${missing} must be set too`,
    );
  }
  const grant = [tlsCert, tlsKey, tlsCa].filter((p) => p !== undefined).join(",");
  const files: [string, string, (text: string) => boolean, string][] = [
    ["TLS_CERT", tlsCert, (t) => t.includes(PEM_CERT), "a PEM certificate"],
    ["TLS_KEY", tlsKey, (t) => PEM_KEY.test(t), "a PEM private key"],
  ];
  if (tlsCa !== undefined) {
    files.push(["TLS_CA", tlsCa, (t) => t.includes(PEM_CERT), "PEM certificates"]);
  }
  for (const [name, path, looksRight, what] of files) {
    let text: string;
    try {
      text = read(path);
    } catch (err) {
      // NotCapable: Deno's permissions; PermissionDenied and others: the file system's own.
      const why = err instanceof Deno.errors.NotCapable
        ? `no read permission: start with --allow-read=${grant} (deno task run:tls does)`
        : err instanceof Deno.errors.NotFound
        ? "no such file"
        : (err as Error).message;
      throw new ConfigError(`Invalid ${name}=${JSON.stringify(path)}: cannot read it: ${why}`);
    }
    if (!looksRight(text)) {
      throw new ConfigError(`Invalid ${name}=${JSON.stringify(path)}: expected ${what} file`);
    }
  }
}

/**
 * The membership config of a node: its profile's preset, the gossip overrides, and its port.
 * Throws a `RangeError` naming the field when the combination is invalid.
 */
export function membershipConfigOf(config: NodeConfig): MembershipConfig {
  return validateMembershipConfig(
    MEMBERSHIP_PROFILES[config.gossipProfile]({
      ...config.gossip,
      bindPort: config.gossipPort,
      gossipVerifyIncoming: config.gossipVerifyIncoming,
      gossipVerifyOutgoing: config.gossipVerifyOutgoing,
      label: config.gossipLabel,
    }),
  );
}

/** One line per setting, for `--help`. */
export function usage(): string {
  const rows = OPTION_SPECS.map((s) =>
    `  ${s.flag.padEnd(18)} ${s.env.join("/").padEnd(16)} ${s.allowed}`
  );
  return ["Usage: deno task run [flags]   (flags override env vars)", ...rows].join("\n");
}
