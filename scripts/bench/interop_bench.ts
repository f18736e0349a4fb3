/**
 * Failure detection in mixed clusters: SIGKILL one member of a 5-node cluster and time until
 * every survivor considers it dead, for all-Deno, all-Go (memberlist 0.2.2) and mixed clusters
 * with the same profile (memberlist's local config), in one run.
 *
 * @module
 */

import {
  freePort,
  GoPeer,
  goPeerBinary,
  NodeProcess,
  stateOf,
  waitFor,
} from "../../testing/mod.ts";

type Member = { kind: "deno"; node: NodeProcess } | { kind: "go"; peer: GoPeer };

function nameOf(m: Member): string {
  return m.kind === "deno" ? m.node.env.NODE_NAME : m.peer.name;
}

async function startMember(
  kind: "deno" | "go",
  name: string,
  seed: number | undefined,
  port: number,
  binary: string,
): Promise<Member> {
  if (kind === "deno") {
    const env: Record<string, string> = {
      NODE_NAME: name,
      PORT: String(port),
      GOSSIP_PROFILE: "local",
      LOG_LEVEL: "warn",
    };
    if (seed !== undefined) env.PEER = `127.0.0.1:${seed}`;
    return { kind, node: await NodeProcess.start(env) };
  }
  const join = seed !== undefined ? `127.0.0.1:${seed}` : undefined;
  return {
    kind,
    peer: await GoPeer.start(binary, { name, port, join, args: ["-profile", "local"] }),
  };
}

async function sees(observer: Member, name: string, dead: boolean): Promise<boolean> {
  if (observer.kind === "deno") {
    const state = await stateOf(observer.node, name);
    return dead ? state === "dead" : state === "alive";
  }
  const listed = (await observer.peer.members()).some((m) => m.name === name);
  return dead ? !listed : listed;
}

async function stop(m: Member): Promise<void> {
  if (m.kind === "deno") await m.node.stop();
  else await m.peer.stop();
}

/** One trial: returns ms from SIGKILL of the last member to dead on every survivor. */
async function trial(kinds: ("deno" | "go")[], binary: string, tag: string): Promise<number> {
  const seedPort = freePort();
  const members: Member[] = [await startMember(kinds[0], `${tag}-0`, undefined, seedPort, binary)];
  try {
    for (let i = 1; i < kinds.length; i++) {
      members.push(await startMember(kinds[i], `${tag}-${i}`, seedPort, freePort(), binary));
    }
    const names = members.map(nameOf);
    await waitFor(
      "all alive everywhere",
      async () => {
        for (const o of members) {
          for (const n of names) if (!(await sees(o, n, false))) return undefined;
        }
        return true;
      },
      30_000,
      100,
    );
    const victim = members[members.length - 1];
    const killed = Date.now();
    await stop(victim);
    const survivors = members.slice(0, -1);
    await waitFor(
      "dead everywhere",
      async () => {
        for (const o of survivors) if (!(await sees(o, nameOf(victim), true))) return undefined;
        return true;
      },
      60_000,
      25,
    );
    return Date.now() - killed;
  } finally {
    await Promise.all(members.map(stop));
  }
}

/** Runs the comparison; returns markdown table rows (or a line saying why it was skipped). */
export async function interopBench(quick: boolean): Promise<string[]> {
  const built = await goPeerBinary();
  if (!built.path) return [`Skipped: ${built.reason}.`];
  const layouts: [string, ("deno" | "go")[]][] = [
    ["all Deno", ["deno", "deno", "deno", "deno", "deno"]],
    ["all Go", ["go", "go", "go", "go", "go"]],
    ["mixed, Deno victim", ["go", "deno", "go", "go", "deno"]],
    ["mixed, Go victim", ["deno", "go", "deno", "deno", "go"]],
  ];
  const rows = [
    "| cluster (5 nodes, local profile) | SIGKILL → dead on all survivors, ms (each trial) | median |",
    "|---|---|---|",
  ];
  for (const [label, kinds] of layouts) {
    const times: number[] = [];
    for (let i = 0; i < (quick ? 1 : 3); i++) {
      times.push(await trial(kinds, built.path, `ib${rows.length}${i}`));
    }
    const sorted = [...times].sort((a, b) => a - b);
    rows.push(`| ${label} | ${times.join(", ")} | ${sorted[Math.floor(sorted.length / 2)]} |`);
  }
  return rows;
}
