/**
 * `deno task cluster`: starts N local nodes (default 3) on loopback with the `run` task's own
 * command and permissions, joined through the first one, prints their URLs once all of them
 * answer and node-0 lists them all alive, and stops them all (gracefully, SIGTERM) on Ctrl-C or
 * SIGTERM. Each node's log lines are prefixed with its name (`node-1 | ...`). When a node exits
 * while starting (a port in use...), the launcher stops the others and exits 1 naming the node
 * and its ports.
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

/** Copies `stream` line by line to `out`, each line prefixed with `name | `. */
async function prefixLines(
  name: string,
  stream: ReadableStream<Uint8Array>,
  out: typeof Deno.stdout,
) {
  const encoder = new TextEncoder();
  let partial = "";
  const write = (line: string) => out.writeSync(encoder.encode(`${name} | ${line}\n`));
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    lines.forEach(write);
  }
  if (partial) write(partial);
}

async function healthy(url: string): Promise<boolean> {
  // A bounded wait: whatever else holds the port may never answer.
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1_000) })
    .catch(() => undefined);
  await res?.body?.cancel();
  return res?.ok ?? false;
}

/**
 * The names `url` lists as alive members, or undefined. Ours answering, not another cluster's
 * node on the same port: the launcher's node names must all be there.
 */
async function aliveMembers(url: string, token: string | undefined): Promise<string[]> {
  const headers: HeadersInit = token ? { authorization: `Bearer ${token}` } : {};
  const res = await fetch(`${url}/cluster/members`, {
    headers,
    signal: AbortSignal.timeout(1_000),
  }).catch(() => undefined);
  if (!res?.ok) {
    await res?.body?.cancel();
    return [];
  }
  const members = await res.json() as { name: string; state: string }[];
  return members.filter((m) => m.state === "alive").map((m) => m.name);
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
  const names: string[] = [];
  const exits: (Deno.CommandStatus | undefined)[] = [];
  const output: Promise<void>[] = [];
  for (let i = 0; i < args.nodes; i++) {
    const env: Record<string, string> = {
      NODE_NAME: `node-${i}`,
      HTTP_PORT: String(args.httpBase + i),
      PORT: String(args.gossipBase + i),
      ...(i > 0 ? { PEER: `127.0.0.1:${args.gossipBase}` } : {}),
      ...args.env,
    };
    const child = new Deno.Command(program, {
      args: taskArgs,
      cwd: root,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    children.push(child);
    names.push(env.NODE_NAME);
    output.push(prefixLines(env.NODE_NAME, child.stdout, Deno.stdout));
    output.push(prefixLines(env.NODE_NAME, child.stderr, Deno.stderr));
    child.status.then((s) => exits[i] = s);
    urls.push(`http://127.0.0.1:${args.httpBase + i}`);
  }
  const where = (i: number) =>
    `${names[i]} (HTTP port ${args.httpBase + i}, gossip port ${args.gossipBase + i})`;
  const abort = async (message: string) => {
    for (const c of children) {
      try {
        c.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    await Promise.all(children.map((c) => c.status));
    await Promise.all(output);
    console.error(`Cannot start the cluster: ${message}`);
    Deno.exit(1);
  };
  // Up means: every node answers /healthz and node-0 lists every launched name alive. A node
  // that exits first (a port in use...) fails the launch at once, naming it.
  const deadline = Date.now() + 90_000;
  const token = args.env.AUTH_TOKEN;
  for (;;) {
    const failed = exits.findIndex((s) => s !== undefined);
    if (failed !== -1) {
      await abort(`${where(failed)} exited with code ${exits[failed]!.code} (its log is above)`);
    }
    const up = await Promise.all(urls.map(healthy));
    if (up.every(Boolean)) {
      const alive = new Set(await aliveMembers(urls[0], token));
      if (names.every((n) => alive.has(n))) break;
    }
    if (Date.now() > deadline) {
      const down = up.flatMap((ok, i) => ok ? [] : [where(i)]);
      await abort(
        down.length > 0
          ? `not healthy after 90 s: ${down.join(", ")}`
          : `the nodes answer but did not join one cluster after 90 s`,
      );
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
