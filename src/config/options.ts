/**
 * The settings table: for every field of the node's config, its env vars, its flag, its parser
 * and what it allows (the text of errors and of `--help`). The loader reads through it.
 *
 * Over 400 lines: it is one table, a row per setting, meant to be read (and appended to) as one.
 *
 * @module
 */

import type { GossipOverrides, NodeConfig } from "./schema.ts";
import { parsePeerEntry } from "./peers.ts";
import { parseBytes, parseDuration } from "./units.ts";

/** A parsed setting value, before it is placed in the config. */
export type Parsed = string | number | boolean | string[];

/** How one setting is read: its env vars, its flag, its parser and what it allows. */
export interface OptionSpec {
  /** The config field it sets (`gossip.<name>` for a gossip override). */
  field: keyof NodeConfig | `gossip.${keyof GossipOverrides}`;
  /** Env vars read, in order (`PEER` and `PEERS` both set `peers`). */
  env: readonly string[];
  /** The command-line flag. */
  flag: string;
  /** What is allowed, for error messages and `--help`. */
  allowed: string;
  /** Error messages show the value's length, never the value. @default false */
  secret?: boolean;
  /** The value of `text`, or `undefined` when it is not allowed. */
  parse(text: string): Parsed | undefined;
}

const PORT_RE = /^\d{1,5}$/;
// RFC 6750's token68, so the token fits an Authorization header, a cookie and a query as is.
const AUTH_TOKEN_RE = /^[A-Za-z0-9\-._~+/]{16,4096}=*$/;

// A Workers binding or var name: a JavaScript identifier of ASCII letters, digits and _.
const BINDING_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function parseOrigin(text: string): string | undefined {
  try {
    const url = new URL(text.trim());
    return (url.protocol === "http:" || url.protocol === "https:") && url.search === "" &&
        url.hash === ""
      ? url.href.replace(/\/$/, "")
      : undefined;
  } catch {
    return undefined;
  }
}

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

function parsePeerList(text: string, portRequired = false): string[] | undefined {
  const peers = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  const address = portRequired
    ? /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-_]+):\d{1,5}$/
    : /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.\-_]+)(:\d{1,5})?$/;
  return peers.every((p) => address.test(p)) ? peers : undefined;
}

function parsePeers(text: string): string[] | undefined {
  const peers = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  return peers.every((p) => parsePeerEntry(p) !== undefined) ? peers : undefined;
}

function parseIpPort(text: string): string | undefined {
  const t = text.trim();
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?$/.exec(t);
  if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) return undefined;
  return `${m[1]}:${m[2] ?? 53}`;
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
    allowed: "comma-separated host:port addresses, dns:<name>:<port> or dns+srv:<name>",
    parse: parsePeers,
  },
  {
    field: "peerHttp",
    env: ["PEER_HTTP"],
    flag: "--peer-http",
    allowed: "comma-separated host:port addresses (peers' HTTP ports, for run:strict)",
    parse: (t) => parsePeerList(t, true),
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
  // DNS discovery (PEERS=dns:<name>:<port>, dns+srv:<name>)
  {
    field: "peersRefreshMs",
    env: ["PEERS_REFRESH"],
    flag: "--peers-refresh",
    allowed: "a positive duration such as 10s, 1m or plain milliseconds",
    parse: parsePositiveDuration,
  },
  {
    field: "dnsServer",
    env: ["DNS_SERVER"],
    flag: "--dns-server",
    allowed: "an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53",
    parse: parseIpPort,
  },
  // Edge (issue 20) and edge workers (issue 21).
  {
    field: "origin",
    env: ["ORIGIN"],
    flag: "--origin",
    allowed: "an http:// or https:// URL such as http://127.0.0.1:9000",
    parse: parseOrigin,
  },
  {
    field: "edgePort",
    env: ["EDGE_PORT"],
    flag: "--edge-port",
    allowed: "a port 0..65535",
    parse: parsePort,
  },
  {
    field: "worker",
    env: ["WORKER"],
    flag: "--worker",
    allowed: "the path of a .ts/.js/.mjs module exporting default { fetch }",
    parse: (t) => (/\.(ts|js|mjs|mts|tsx|jsx)$/.test(t.trim()) ? t.trim() : undefined),
  },
  {
    field: "workerKv",
    env: ["WORKER_KV"],
    flag: "--worker-kv",
    allowed: "comma-separated binding names (A-Z a-z 0-9 _, starting with a letter or _)",
    parse: (t) => {
      const names = t.split(",").map((n) => n.trim()).filter((n) => n !== "");
      return names.every((n) => BINDING_RE.test(n)) ? names : undefined;
    },
  },
  {
    field: "workerVars",
    env: ["WORKER_VARS"],
    flag: "--worker-vars",
    allowed: 'a JSON object of var names to values, such as {"API_URL":"https://example.com"}',
    secret: true,
    parse: (t) => {
      try {
        const vars = JSON.parse(t);
        return typeof vars === "object" && vars !== null && !Array.isArray(vars) &&
            Object.keys(vars).every((n) => BINDING_RE.test(n))
          ? t
          : undefined;
      } catch {
        return undefined;
      }
    },
  },
  {
    field: "workerConfig",
    env: ["WORKER_CONFIG"],
    flag: "--worker-config",
    allowed: "the path of a wrangler.toml, wrangler.json or wrangler.jsonc file",
    parse: (t) => (/\.(toml|json|jsonc)$/.test(t.trim()) ? t.trim() : undefined),
  },
  {
    field: "workerPool",
    env: ["WORKER_POOL"],
    flag: "--worker-pool",
    allowed: "0 (one per core) or a number of workers 1..256",
    parse: (t) => (/^\d{1,3}$/.test(t.trim()) && Number(t) <= 256 ? Number(t) : undefined),
  },
  {
    field: "workerAllowNet",
    env: ["WORKER_ALLOW_NET"],
    flag: "--worker-allow-net",
    allowed: "comma-separated host or host:port entries",
    parse: (t) => parsePeerList(t),
  },
  {
    field: "workerTimeoutMs",
    env: ["WORKER_TIMEOUT"],
    flag: "--worker-timeout",
    allowed: "a positive duration such as 500ms, 30s or plain milliseconds",
    parse: parsePositiveDuration,
  },
  {
    field: "workerReload",
    env: ["WORKER_RELOAD"],
    flag: "--worker-reload",
    allowed: "true or false",
    parse: parseBool,
  },
  {
    field: "workerMemoryBytes",
    env: ["WORKER_MEMORY"],
    flag: "--worker-memory",
    allowed: "0 (unchecked) or a size such as 256MiB or 1GiB",
    parse: parseBytes,
  },
  // The edge cache's own settings (issue 20; ORIGIN and EDGE_PORT above).
  {
    field: "edgeDefaultTtlMs",
    env: ["EDGE_DEFAULT_TTL"],
    flag: "--edge-default-ttl",
    allowed: "a duration such as 30s or 5m; 0 = responses without freshness are not stored",
    parse: parseDuration,
  },
  {
    field: "edgeOriginTimeoutMs",
    env: ["EDGE_ORIGIN_TIMEOUT"],
    flag: "--edge-origin-timeout",
    allowed: "a positive duration such as 10s",
    parse: parsePositiveDuration,
  },
  {
    field: "edgeCacheCookies",
    env: ["EDGE_CACHE_COOKIES"],
    flag: "--edge-cache-cookies",
    allowed: "comma-separated cookie names",
    parse: (t) => {
      const names = t.split(",").map((n) => n.trim()).filter((n) => n !== "");
      return names.every((n) => /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(n)) ? names : undefined;
    },
  },
  {
    field: "workerMode",
    env: ["WORKER_MODE"],
    flag: "--worker-mode",
    allowed:
      "pool (the node owns EDGE_PORT and hands each request to a worker) or direct (each worker listens on EDGE_PORT itself)",
    parse: oneOf(["pool", "direct"] as const),
  },
  {
    field: "workerIsolation",
    env: ["WORKER_ISOLATION"],
    flag: "--worker-isolation",
    allowed:
      "thread (Deno workers in the node's process) or process (each worker a deno process the node can kill)",
    parse: oneOf(["thread", "process"] as const),
  },
];

/** The env vars the loader reads (the run task grants `--allow-env` for exactly these). */
export const CONFIG_ENV_VARS: readonly string[] = OPTION_SPECS.flatMap((s) => s.env);

/** One line per setting, for `--help`. */
export function usage(): string {
  const rows = OPTION_SPECS.map((s) =>
    `  ${s.flag.padEnd(18)} ${s.env.join("/").padEnd(16)} ${s.allowed}`
  );
  return [
    "Usage: deno task run [flags]   (flags override env vars; -h/--help, -v/--version)",
    ...rows,
  ].join("\n");
}
