/**
 * Packet loss for the chaos run, without touching the machine's own network: the run executes
 * inside a fresh network namespace (its own loopback, so its nodes' ports never meet anyone
 * else's), and loss is an nftables rule on that namespace's input hook dropping a random share
 * of every packet (`numgen random`), gossip, replication and client traffic alike.
 *
 * Linux's `netem` would be the usual tool, but kernels without `sch_netem` (this project's
 * machines among them) still have nftables; `ip` comes from iproute2 and `nft` from nftables
 * (`apt-get install -y iproute2 nftables`). Without them, or without root, the run goes on in
 * the current namespace and reports loss as skipped with the reason.
 *
 * @module
 */

import { repositoryRoot, runTaskCommand } from "../../testing/mod.ts";

const NAMESPACE_PREFIX = "cachenode-chaos-";
const TABLE = "cachenode_chaos";

/** Runs a command; resolves with its exit code and output (a missing program is code 127). */
export async function runCommand(
  program: string,
  args: string[],
  stdin?: string,
): Promise<{ code: number; output: string }> {
  try {
    const child = new Deno.Command(program, {
      args,
      stdin: stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(stdin));
      await writer.close();
    }
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, output: text.trim() };
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { code: 127, output: `${program}: not found` };
    throw err;
  }
}

/** Deletes namespaces left by chaos runs whose process is gone (a run that was killed). */
async function deleteStaleNamespaces(): Promise<void> {
  const list = await runCommand("ip", ["netns", "list"]);
  if (list.code !== 0) return;
  for (const line of list.output.split("\n")) {
    const name = line.split(" ")[0];
    if (!name.startsWith(NAMESPACE_PREFIX)) continue;
    const pid = Number(name.slice(NAMESPACE_PREFIX.length));
    const alive = await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
    if (!alive) await runCommand("ip", ["netns", "del", name]);
  }
}

/**
 * Runs `task` (this script's deno.json task) again, with `args` and `--netns <name>`, inside a
 * new network namespace with its loopback up; deletes the namespace afterwards. Resolves with
 * the child's exit code, or with the reason a namespace could not be made (then run in place).
 */
export async function rerunInNamespace(
  task: string,
  args: string[],
): Promise<{ code: number } | { skipped: string }> {
  const name = `${NAMESPACE_PREFIX}${Deno.pid}`;
  await deleteStaleNamespaces();
  const added = await runCommand("ip", ["netns", "add", name]);
  if (added.code !== 0) return { skipped: `cannot create a network namespace: ${added.output}` };
  try {
    const up = await runCommand("ip", ["-n", name, "link", "set", "lo", "up"]);
    if (up.code !== 0) return { skipped: `cannot bring up loopback in ${name}: ${up.output}` };
    const [program, ...taskArgs] = await runTaskCommand(task);
    const child = new Deno.Command("ip", {
      args: ["netns", "exec", name, program, ...taskArgs, ...args, "--netns", name],
      cwd: repositoryRoot,
      stdin: "null",
    }).spawn();
    // Ctrl-C reaches the child too; wait for it to clean up before deleting the namespace.
    const forward = (signal: Deno.Signal) => () => child.kill(signal);
    const handlers = (["SIGINT", "SIGTERM"] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) Deno.addSignalListener(s, h);
    try {
      return { code: (await child.status).code };
    } finally {
      for (const [s, h] of handlers) Deno.removeSignalListener(s, h);
    }
  } finally {
    await runCommand("ip", ["netns", "del", name]);
  }
}

/** Drops a share of every packet in the current network namespace with an nftables rule. */
export class PacketLoss {
  private constructor() {}

  /**
   * Creates the (empty) rule table: only inside a chaos namespace (`namespace` set), never in
   * the machine's own. Resolves with the reason when loss cannot be injected.
   */
  static async open(namespace: string | undefined): Promise<PacketLoss | string> {
    if (namespace === undefined) return "not inside a network namespace";
    const made = await runCommand(
      "nft",
      ["-f", "-"],
      [
        `table inet ${TABLE} {`,
        `  chain input { type filter hook input priority 0; policy accept; }`,
        `}`,
      ].join("\n"),
    );
    if (made.code !== 0) return `cannot add an nftables table (nft): ${made.output}`;
    return new PacketLoss();
  }

  /** Drops `percent` % of the packets (0 = none). */
  async set(percent: number): Promise<void> {
    if (!(percent >= 0 && percent <= 100)) {
      throw new RangeError(
        `Cannot set packet loss: percent must be in 0..100: received ${percent}`,
      );
    }
    const perMille = Math.round(percent * 10);
    const rules = [`flush chain inet ${TABLE} input`];
    if (perMille > 0) {
      rules.push(`add rule inet ${TABLE} input numgen random mod 1000 < ${perMille} drop`);
    }
    const done = await runCommand("nft", ["-f", "-"], rules.join("\n"));
    if (done.code !== 0) throw new Error(`Cannot set packet loss to ${percent} %: ${done.output}`);
  }

  /** Removes the table. */
  async close(): Promise<void> {
    await runCommand("nft", ["delete", "table", "inet", TABLE]);
  }
}
