/**
 * The loader: reads env vars and command-line flags (flags win) through the settings table
 * into a {@link NodeConfig}, then checks what needs more than one value (budgets, tombstones,
 * TLS files, gossip keys, and through a hook the gossip preset). Every bad value is reported
 * with the variable, the value and what is allowed, so `main.ts` can print one line and exit 2.
 *
 * @module
 */

import { GossipKeyError, gossipKeysOf } from "./keys.ts";
import { OPTION_SPECS, type OptionSpec, type Parsed } from "./options.ts";
import {
  ConfigError,
  DEFAULT_CONFIG,
  type GossipOverrides,
  type NodeConfig,
  nodeConfig,
} from "./schema.ts";

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
  /**
   * Whether the TLS files are read to check them; the launcher that grants the node its
   * permissions passes false (it may not read them: the node it starts checks them).
   * @default true
   */
  checkFiles?: boolean;
}

/** What a check of the gossip preset with its overrides found wrong. */
export interface GossipProblem {
  /** Why, as the layer that owns the gossip settings says it. */
  message: string;
  /** The gossip settings involved (override names such as `probeTimeout`), first the culprit. */
  fields: readonly string[];
}

/**
 * Checks the gossip preset with its overrides by the rules of the layer that owns them (the
 * node passes membership's); `undefined` when they agree.
 */
export type GossipCheck = (config: NodeConfig) => GossipProblem | undefined;

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
    if ((spec.field === "peers" || spec.field === "peerHttp") && found.has(spec)) {
      value = `${found.get(spec)},${value}`;
    }
    found.set(spec, value);
  }
  return found;
}

/**
 * Reads the config from env vars and flags (flags win over env vars; `PEER` and `PEERS` are
 * merged). Throws a {@link ConfigError} naming the first bad variable or flag.
 *
 * @param checkGossip checks the gossip preset with its overrides; a problem is reported naming
 *   the override to blame (else the profile). @default no check
 */
export function loadConfig(sources: ConfigSources, checkGossip?: GossipCheck): NodeConfig {
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
    gossipKeysOf(config, { secretKey: "SECRET_KEY", secretKeys: "SECRET_KEYS" });
  } catch (err) {
    if (!(err instanceof GossipKeyError)) throw err;
    // The problem names the decoded length, never the key itself.
    throw new ConfigError(`Invalid ${err.setting} ${err.problem}`);
  }
  if (sources.checkFiles !== false) {
    checkTlsFiles(config, sources.readTextFile ?? Deno.readTextFileSync);
  }
  if (config.tombstoneTtlMs < 10 * config.antiEntropyIntervalMs) {
    const given = sourceOf.get("tombstoneTtlMs") ?? `TOMBSTONE_TTL=${config.tombstoneTtlMs}`;
    throw new ConfigError(
      `Invalid ${given}: expected at least 10 × ANTI_ENTROPY_INTERVAL (${
        10 * config.antiEntropyIntervalMs
      } ms), so deletes outlive anti-entropy`,
    );
  }
  if (config.workerMode === "direct" && config.worker !== undefined && !config.edgePort) {
    throw new ConfigError(
      "Invalid WORKER_MODE=direct: expected EDGE_PORT set to a port (every worker listens on it)",
    );
  }
  const problem = checkGossip?.(config);
  if (problem) {
    // The preset plus overrides must also agree with each other (e.g. probe timeout < interval).
    const field = Object.keys(config.gossip).find((f) => problem.fields.includes(f));
    const given = field ? sourceOf.get(`gossip.${field}`) : undefined;
    throw new ConfigError(
      `Invalid ${given ?? `GOSSIP_PROFILE=${config.gossipProfile}`}: ${problem.message}`,
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
