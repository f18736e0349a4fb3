/**
 * Membership benchmark on real processes (nodes started with the `run` task on loopback): join
 * visibility time, idle CPU and gossip bandwidth per node, and failure detection time (SIGKILL to
 * `dead` on every survivor), for 5 and 10 nodes with the `local` and `lan` profiles.
 *
 * @module
 */

import {
  clusterView,
  NodeProcess,
  startCluster,
  waitFor,
  waitForState,
} from "../../testing/mod.ts";

const CLOCK_TICKS = 100; // USER_HZ on Linux

function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * (1000 / CLOCK_TICKS);
}

async function gossipBytes(node: NodeProcess): Promise<number> {
  const stats = await (await fetch(node.url("/stats"))).json();
  return stats.membership.bytesIn + stats.membership.bytesOut;
}

/** One measured configuration. */
interface MembershipFigures {
  profile: string;
  nodes: number;
  joinMs: number;
  cpuPct: number;
  bytesPerSec: number;
  detectMs: number;
}

async function measure(profile: string, n: number, idleMs: number): Promise<MembershipFigures> {
  const started = Date.now();
  const nodes = await startCluster(`bench-${profile}-${n}`, n, {
    GOSSIP_PROFILE: profile,
    LOG_LEVEL: "warn",
  });
  try {
    await waitFor(`${n} alive everywhere`, async () => {
      const views = await Promise.all(nodes.map(clusterView));
      return views.every((v) => v.filter((m) => m.state === "alive").length === n) || undefined;
    }, 60_000);
    const joinMs = Date.now() - started;
    const cpu0 = nodes.map((x) => cpuMs(x.pid));
    const bytes0 = await Promise.all(nodes.map(gossipBytes));
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, idleMs));
    const seconds = (Date.now() - t0) / 1000;
    const cpu1 = nodes.map((x) => cpuMs(x.pid));
    const bytes1 = await Promise.all(nodes.map(gossipBytes));
    const cpuPct = cpu1.reduce((s, c, i) => s + c - cpu0[i], 0) / n / (seconds * 10);
    const bytesPerSec = bytes1.reduce((s, b, i) => s + b - bytes0[i], 0) / n / seconds;
    const victim = nodes[n - 1];
    const killed = Date.now();
    await victim.stop("SIGKILL");
    await waitForState(nodes.slice(0, n - 1), victim.env.NODE_NAME, "dead", 120_000);
    return { profile, nodes: n, joinMs, cpuPct, bytesPerSec, detectMs: Date.now() - killed };
  } finally {
    await Promise.all(nodes.map((x) => x.stop()));
  }
}

/** Runs every configuration; returns markdown table rows. */
export async function membershipBench(quick: boolean): Promise<string[]> {
  const rows = [
    "| profile | nodes | join visible on all (ms) | idle CPU per node (% of a core) | gossip bytes in+out per node per s | SIGKILL → dead on all (ms) |",
    "|---|---|---|---|---|---|",
  ];
  for (const profile of ["local", "lan"]) {
    for (const n of quick ? [5] : [5, 10]) {
      const f = await measure(profile, n, quick ? 3000 : 10_000);
      rows.push(
        `| ${f.profile} | ${f.nodes} | ${f.joinMs} | ${f.cpuPct.toFixed(2)} | ${
          f.bytesPerSec.toFixed(0)
        } | ${f.detectMs} |`,
      );
    }
  }
  return rows;
}
