/**
 * `deno task cluster`: starts N local nodes (default 3) on loopback with the `run` task's own
 * command and permissions, joined through the first one, prints their URLs, and stops them all
 * (gracefully, SIGTERM) on Ctrl-C or SIGTERM.
 *
 * Usage: `deno task cluster [--nodes 3] [--http-base 8000] [--gossip-base 7946] [-- env=value...]`
 * Extra `NAME=value` arguments after `--` are passed to every node as env vars
 * (e.g. `-- GOSSIP_PROFILE=local MAX_MEMORY=64mb`).
 *
 * @module
 */

import { repositoryRoot as root, runTaskCommand } from "../testing/mod.ts";
import { type CommandLine, commandLineOrExit, kebab, parseCommandLine } from "./cli_flags.ts";

/** Options of {@link parseArgs}. */
export interface ClusterArgs {
  /** How many nodes. @default 3 */
  nodes: number;
  /** HTTP port of node 0; node i uses base + i. @default 8000 */
  httpBase: number;
  /** Gossip port of node 0; node i uses base + i. @default 7946 */
  gossipBase: number;
  /** Env vars for every node. */
  env: Record<string, string>;
}

const DEFAULTS = { nodes: 3, httpBase: 8000, gossipBase: 7946 };
const USAGE = { command: "deno task cluster", rest: "[-- NAME=value...]" };

/** Checks parsed flags and reads the env assignments after `--`; throws a TypeError. */
function clusterArgs(line: CommandLine<typeof DEFAULTS>, args: readonly string[]): ClusterArgs {
  const end = args.indexOf("--");
  const assignments = end === -1 ? [] : args.slice(end + 1);
  if (line.positionals.length !== assignments.length) {
    throw new TypeError(
      `Invalid argument ${JSON.stringify(line.positionals[0])}: env assignments go after --`,
    );
  }
  for (const [field, value] of Object.entries(line.flags)) {
    if (!Number.isInteger(value)) {
      throw new TypeError(`Invalid --${kebab(field)} ${value}: expected a whole number`);
    }
  }
  const out: ClusterArgs = { ...line.flags, env: {} };
  for (const pair of assignments) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new TypeError(`Invalid env assignment ${JSON.stringify(pair)}: expected NAME=value`);
    }
    out.env[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  if (out.nodes < 1 || out.nodes > 50) {
    throw new TypeError(`Invalid --nodes ${out.nodes}: expected 1..50`);
  }
  return out;
}

/** Parses the launcher's arguments; throws a TypeError naming a bad one. */
export function parseArgs(args: readonly string[]): ClusterArgs {
  return clusterArgs(parseCommandLine(args, DEFAULTS, { positionals: true }), args);
}

async function healthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/healthz`).catch(() => undefined);
  await res?.body?.cancel();
  return res?.ok ?? false;
}

if (import.meta.main) {
  const line = commandLineOrExit(USAGE, DEFAULTS, { positionals: true });
  let args: ClusterArgs;
  try {
    args = clusterArgs(line, Deno.args);
  } catch (err) {
    console.error((err as Error).message);
    Deno.exit(2);
  }
  const [program, ...taskArgs] = await runTaskCommand();
  const children: Deno.ChildProcess[] = [];
  const urls: string[] = [];
  for (let i = 0; i < args.nodes; i++) {
    const env: Record<string, string> = {
      NODE_NAME: `node-${i}`,
      HTTP_PORT: String(args.httpBase + i),
      PORT: String(args.gossipBase + i),
      ...(i > 0 ? { PEER: `127.0.0.1:${args.gossipBase}` } : {}),
      ...args.env,
    };
    children.push(
      new Deno.Command(program, { args: taskArgs, cwd: root, env, stdin: "null" }).spawn(),
    );
    urls.push(`http://127.0.0.1:${args.httpBase + i}`);
  }
  const deadline = Date.now() + 90_000;
  while (!(await Promise.all(urls.map(healthy))).every(Boolean)) {
    if (Date.now() > deadline) {
      console.error("Cannot start the cluster: nodes not healthy after 90 s");
      for (const c of children) c.kill("SIGKILL");
      Deno.exit(1);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`cluster of ${args.nodes} running (Ctrl-C stops it):`);
  urls.forEach((u, i) =>
    console.log(`  node-${i}  ${u}  (dashboard ${u}/, members ${u}/cluster/members)`)
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log("stopping...");
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    const statuses = await Promise.all(children.map((c) => c.status));
    const failed = statuses.filter((s) => s.code !== 0).length;
    console.log(
      failed === 0 ? "all nodes stopped cleanly" : `${failed} node(s) exited with errors`,
    );
    Deno.exit(failed === 0 ? 0 : 1);
  };
  Deno.addSignalListener("SIGINT", stop);
  if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
  // A node dying on its own is reported; the rest keep running.
  children.forEach((c, i) =>
    c.status.then((s) => {
      if (!stopping) console.error(`node-${i} exited with code ${s.code}`);
    })
  );
}
