/**
 * What a worker runtime runs with, resolved once from the node's config: the module's URL and
 * folder, its KV bindings and vars (from `WORKER_KV`/`WORKER_VARS` and, with `WORKER_CONFIG`, a
 * Workers project's `wrangler.toml`/`.json`/`.jsonc`), and the Deno permissions of its workers.
 * TOML is read by `smol-toml` and JSONC by Microsoft's `jsonc-parser` (comments and trailing
 * commas as wrangler accepts them), both pinned.
 *
 * @module
 */

import { parse as parseToml } from "npm:smol-toml@1.9.1";
import { parse as parseJsonc, type ParseError } from "npm:jsonc-parser@3.3.1";
import { dirname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { NodeConfig } from "../config/mod.ts";
import { ConfigError } from "../config/mod.ts";

/** The binding every worker gets, whatever else is configured. */
export const DEFAULT_BINDING = "CACHE";

/** The key prefix of a KV binding's namespace in the cluster: `kv:<BINDING>:`. */
export function bindingPrefix(binding: string): string {
  return `kv:${binding}:`;
}

/** Everything a worker pool needs, resolved from the config. */
export interface WorkerSettings {
  /** `file:` URL of the user's module. */
  moduleUrl: string;
  /** Absolute folder of the module (the workers may read it; reload watches it). */
  dir: string;
  /** KV binding names, `CACHE` first. */
  bindings: string[];
  /** Vars, as strings. */
  vars: Record<string, string>;
  /** Hosts the workers may reach (`WORKER_ALLOW_NET` plus the origin's host:port). */
  allowNet: string[];
  /** Whether `env.ORIGIN` exists. */
  origin: boolean;
  /** Workers in the pool. */
  poolSize: number;
  /** Wall-clock deadline of one request, ms. */
  timeoutMs: number;
  /** Memory the workers may add to the process, bytes; 0 = unchecked. */
  memoryBytes: number;
  /** Whether a change in `dir` reloads the pool. */
  reload: boolean;
  /**
   * `WORKER_MODE=direct`: where every worker listens itself (`SO_REUSEPORT`); unset, the node
   * listens and hands requests to the pool.
   */
  listen?: { hostname: string; port: number };
  /** Whether each worker is a `deno` process (direct mode, or `WORKER_ISOLATION=process`). */
  processes: boolean;
}

/** The worker's vars as strings (Workers `vars` that are not strings become their JSON). */
function stringVars(vars: unknown, from: string): Record<string, string> {
  if (vars === undefined) return {};
  if (typeof vars !== "object" || vars === null || Array.isArray(vars)) {
    throw new ConfigError(`Invalid ${from}: vars must be an object`);
  }
  return Object.fromEntries(
    Object.entries(vars).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** The `kv_namespaces` bindings and `vars` of a wrangler file's text. */
export function parseWranglerConfig(
  text: string,
  path: string,
): { bindings: string[]; vars: Record<string, string> } {
  let data: Record<string, unknown>;
  try {
    if (path.endsWith(".toml")) data = parseToml(text) as Record<string, unknown>;
    else {
      const errors: ParseError[] = [];
      data = parseJsonc(text, errors, { allowTrailingComma: true });
      if (errors.length > 0) throw new SyntaxError(`JSON error at offset ${errors[0].offset}`);
    }
  } catch (err) {
    throw new ConfigError(`Invalid WORKER_CONFIG=${JSON.stringify(path)}: ${err}`);
  }
  const namespaces = data?.kv_namespaces ?? [];
  if (!Array.isArray(namespaces)) {
    throw new ConfigError(`Invalid WORKER_CONFIG=${JSON.stringify(path)}: kv_namespaces`);
  }
  const bindings = namespaces.map((ns) => {
    const binding = (ns as { binding?: unknown })?.binding;
    if (typeof binding !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(binding)) {
      throw new ConfigError(
        `Invalid WORKER_CONFIG=${JSON.stringify(path)}: kv_namespaces[].binding must be a name`,
      );
    }
    return binding;
  });
  return { bindings, vars: stringVars(data.vars, `WORKER_CONFIG=${JSON.stringify(path)}`) };
}

/** The origin's `host:port`, as a Deno net permission. */
function originHost(origin: string): string {
  const url = new URL(origin);
  return `${url.hostname}:${url.port || (url.protocol === "https:" ? "443" : "80")}`;
}

/**
 * Resolves the worker settings of `config` (which has `worker` set); reads `workerConfig` with
 * `readTextFile`. Throws a `ConfigError` naming the setting when a file is unreadable or wrong.
 */
export async function resolveWorkerSettings(
  config: NodeConfig,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<WorkerSettings> {
  const path = resolve(config.worker!);
  const vars: Record<string, string> = {};
  const bindings = new Set([DEFAULT_BINDING]);
  if (config.workerConfig) {
    let text: string;
    try {
      text = await readTextFile(config.workerConfig);
    } catch (err) {
      throw new ConfigError(`Invalid WORKER_CONFIG=${JSON.stringify(config.workerConfig)}: ${err}`);
    }
    const wrangler = parseWranglerConfig(text, config.workerConfig);
    for (const b of wrangler.bindings) bindings.add(b);
    Object.assign(vars, wrangler.vars);
  }
  for (const b of config.workerKv) bindings.add(b);
  if (config.workerVars) {
    Object.assign(vars, stringVars(JSON.parse(config.workerVars), "WORKER_VARS"));
  }
  for (const name of Object.keys(vars)) {
    if (bindings.has(name) || name === "ORIGIN") {
      throw new ConfigError(`Invalid WORKER_VARS: ${name} is also a binding`);
    }
  }
  const allowNet = [...config.workerAllowNet];
  if (config.origin) allowNet.push(originHost(config.origin));
  return {
    moduleUrl: pathToFileURL(path).href,
    dir: dirname(path),
    bindings: [...bindings],
    vars,
    allowNet,
    origin: config.origin !== undefined,
    poolSize: config.workerPool > 0 ? config.workerPool : navigator.hardwareConcurrency,
    timeoutMs: config.workerTimeoutMs,
    memoryBytes: config.workerMemoryBytes,
    reload: config.workerReload,
    processes: config.workerMode === "direct" || config.workerIsolation === "process",
    ...(config.workerMode === "direct" && config.edgePort
      ? { listen: { hostname: config.bindAddr, port: config.edgePort } }
      : {}),
  };
}
