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

const root = new URL("../", import.meta.url);

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

/** Parses the launcher's arguments; throws a TypeError naming a bad one. */
export function parseArgs(args: readonly string[]): ClusterArgs {
  const out: ClusterArgs = { nodes: 3, httpBase: 8000, gossipBase: 7946, env: {} };
  const numbers: Record<string, "nodes" | "httpBase" | "gossipBase"> = {
    "--nodes": "nodes",
    "--http-base": "httpBase",
    "--gossip-base": "gossipBase",
  };
  let i = 0;
  for (; i < args.length && args[i] !== "--"; i++) {
    const [flag, inline] = args[i].split("=", 2);
    const field = numbers[flag];
    const value = inline ?? args[++i];
    if (!field || value === undefined || !/^\d+$/.test(value)) {
      throw new TypeError(
        `Invalid argument ${
          JSON.stringify(args[i] ?? flag)
        }: expected --nodes N, --http-base PORT, --gossip-base PORT`,
      );
    }
    out[field] = Number(value);
  }
  for (const pair of args.slice(i + 1)) {
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

async function runCommand(): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const words = (denoJson.tasks.run as string).split(/\s+/).filter((w) => w !== "");
  return [Deno.execPath(), ...words.slice(1)];
}

async function healthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/healthz`).catch(() => undefined);
  await res?.body?.cancel();
  return res?.ok ?? false;
}

if (import.meta.main) {
  let args: ClusterArgs;
  try {
    args = parseArgs(Deno.args);
  } catch (err) {
    console.error((err as Error).message);
    Deno.exit(2);
  }
  const [program, ...taskArgs] = await runCommand();
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
