/**
 * The command-line entry point, and the only module with side effects: read the config from env
 * vars and flags, start one cache node, and shut it down cleanly on SIGINT/SIGTERM.
 *
 * Exit codes: 0 after a clean shutdown, 1 when the node cannot start (e.g. a port in use),
 * 2 for a bad configuration value (one line on stderr names it).
 *
 * @module
 */

import { CacheNode, ConfigError, createLogger, loadConfig, usage } from "./mod.ts";
import { describeConfig } from "./src/config/mod.ts";
import { versionLine } from "./src/util/version.ts";

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(usage());
  Deno.exit(0);
}
if (Deno.args.includes("--version") || Deno.args.includes("-v")) {
  console.log(versionLine());
  Deno.exit(0);
}

let config;
try {
  config = loadConfig({
    env: (name) => Deno.env.get(name),
    args: Deno.args,
    hostname: () => Deno.hostname(),
  });
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  Deno.exit(2);
}

const logger = createLogger({ level: config.logLevel, format: config.logFormat }, {
  node: config.nodeName,
});
logger.info("config", describeConfig(config));
const node = new CacheNode(config, { logger });
try {
  await node.start();
} catch (err) {
  logger.error("cannot start node", { node: config.nodeName, err });
  Deno.exit(1);
}

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  logger.info("shutting down", { signal });
  await node.close();
  Deno.exit(0);
};
const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
for (const signal of signals) Deno.addSignalListener(signal, () => stop(signal));
// SIGHUP reloads the worker module (new requests take the new version, in-flight ones finish).
if (Deno.build.os !== "windows" && config.worker) {
  Deno.addSignalListener("SIGHUP", () => {
    logger.info("reloading worker", { signal: "SIGHUP" });
    node.reloadWorkers().catch((err) => logger.error("worker reload failed", { err }));
  });
}

// Exit with the process that started us: a `deno task run` wrapper killed with SIGKILL cannot
// forward a signal, and the OS hands its orphan to another parent, which Deno.ppid shows.
const parent = Deno.ppid;
const parentWatch = setInterval(() => {
  if (Deno.ppid !== parent) stop("parent exited");
}, 250);
Deno.unrefTimer(parentWatch);
