/**
 * Partitioned-mode benchmark (`deno task bench partitioned`), real processes on loopback:
 *
 * - memory per node for the same data set on 5 nodes with `REPLICAS=all` and `REPLICAS=2`
 *   (store bytes and RSS growth; each node is loaded with exactly the records it holds in that
 *   mode, through `/internal/replicate`, as replication would leave it);
 * - key balance: max/mean keys per node with `REPLICAS=2`;
 * - GET throughput of a key the node owns (served locally) vs a key it forwards to an owner,
 *   and of the same key on a `REPLICAS=all` node (wrk, 2 threads, 64 connections);
 * - rebalance after a join: 5 nodes holding 1,000,000 keys × 2 copies, a 6th node started with
 *   `PEER`: time until it is ready and until every former owner has handed off (the cluster
 *   holds exactly 2 copies again).
 *
 * @module
 */

import { hashLane1 } from "../../src/util/hash.ts";
import { Placement } from "../../src/replication/mod.ts";
import { hlcFromParts } from "../../src/util/hlc.ts";
import {
  bulkLoad,
  type LoadRecord,
  NodeProcess,
  startCluster,
  statsOf,
  waitFor,
  waitReady,
  waitReadyz,
} from "../../testing/mod.ts";
import { wrk } from "./http_bench.ts";
import { loadAverage } from "./replication_bench.ts";
import { flagsOrExit } from "../cli_flags.ts";

const BASE_ENV = { GOSSIP_PROFILE: "local", LOG_LEVEL: "warn", MAX_MEMORY: "0" };
const BUCKETS = 4096;

/** Resident set size of a process, MiB (Linux `/proc`). */
function rssMib(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
}

function records(count: number, prefix: string): LoadRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    key: `${prefix}${i}`,
    value: "v".repeat(100),
    expiresAt: 0,
  }));
}

/** Loads each node with the records it holds: all of them, or those of its buckets. */
async function loadAsReplicated(
  nodes: NodeProcess[],
  data: LoadRecord[],
  replicas: number,
): Promise<void> {
  const names = nodes.map((n) => n.env.NODE_NAME);
  const placement = replicas > 0 ? new Placement(names, replicas, BUCKETS) : undefined;
  const hlc = hlcFromParts(Date.now());
  await Promise.all(nodes.map((node, i) => {
    const mine = placement
      ? data.filter((r) => placement.owns(names[i], hashLane1(r.key) & (BUCKETS - 1)))
      : data;
    return bulkLoad(node, mine, "loader", hlc);
  }));
}

/** A loaded 5-node cluster in one mode, its memory figures, and the URLs its GETs hit. */
async function memoryRun(replicas: number, keys: number, nodes: NodeProcess[]) {
  await waitReady(nodes, 60_000);
  const before = nodes.map((n) => rssMib(n.pid));
  await loadAsReplicated(nodes, records(keys, "key-"), replicas);
  const stats = await Promise.all(nodes.map(statsOf));
  const entries = stats.map((s) => s.store.entries);
  const bytes = await Promise.all(
    nodes.map(async (n) => (await (await fetch(n.url("/stats"))).json()).store.bytes as number),
  );
  const growth = nodes.map((n, i) => rssMib(n.pid) - before[i]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const urls: Record<string, string> = {};
  if (replicas > 0) {
    const name0 = nodes[0].env.NODE_NAME;
    // One key node 0 owns and one it does not.
    for (let k = 0; k < 1000 && !(urls.local && urls.forwarded); k++) {
      const r = await (await fetch(nodes[0].url(`/cluster/ring?key=key-${k}`))).json();
      urls[(r.key.owners as string[]).includes(name0) ? "local" : "forwarded"] ??= nodes[0].url(
        `/cache/key-${k}`,
      );
    }
  } else {
    urls.all = nodes[0].url("/cache/key-0");
  }
  return {
    entries,
    balance: Math.max(...entries) / mean(entries),
    storeMib: mean(bytes) / 1048576,
    rssGrowthMib: mean(growth),
    urls,
    load: loadAverage(),
  };
}

/** req/s of each URL: `rounds` alternating wrk runs of `seconds`, median per URL. */
async function alternatingGets(urls: Record<string, string>, rounds: number, seconds: number) {
  const runs: Record<string, number[]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const [name, url] of Object.entries(urls)) {
      (runs[name] ??= []).push((await wrk(url, seconds)).rps);
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return Object.fromEntries(Object.entries(runs).map(([name, xs]) => [name, median(xs)]));
}

async function rebalanceRun(keys: number) {
  const nodes = await startCluster("bench-rb", 5, { ...BASE_ENV, REPLICAS: "2" });
  let joiner: NodeProcess | undefined;
  try {
    await waitReady(nodes, 60_000);
    await loadAsReplicated(nodes, records(keys, "key-"), 2);
    const started = performance.now();
    const j = joiner = await NodeProcess.start({
      ...BASE_ENV,
      REPLICAS: "2",
      NODE_NAME: "bench-rb-5",
      PEER: `127.0.0.1:${nodes[0].gossipPort}`,
    });
    await waitReadyz(j, 300_000);
    const readyMs = performance.now() - started;
    const all = [...nodes, j];
    let total = 0;
    await waitFor(
      "2 copies of every key",
      async () => {
        const stats = await Promise.all(all.map(statsOf));
        total = stats.reduce((s, x) => s + x.store.entries, 0);
        return total === 2 * keys || undefined;
      },
      600_000,
      200,
    );
    const settledMs = performance.now() - started;
    const joinerKeys = (await statsOf(j)).store.entries;
    return { readyMs, settledMs, joinerKeys, load: loadAverage() };
  } finally {
    await Promise.all([...nodes, ...(joiner ? [joiner] : [])].map((x) => x.stop()));
  }
}

/** Runs every measurement; returns markdown lines. */
export async function partitionedBench(quick: boolean): Promise<string[]> {
  const keys = quick ? 20_000 : 200_000;
  // Both clusters stay up (loaded) so that their GETs can be measured in alternating rounds.
  const fullNodes = await startCluster("bench-pall", 5, { ...BASE_ENV, REPLICAS: "all" });
  const twoNodes = await startCluster("bench-p2", 5, { ...BASE_ENV, REPLICAS: "2" });
  let all, two, rps;
  try {
    all = await memoryRun(0, keys, fullNodes);
    two = await memoryRun(2, keys, twoNodes);
    rps = await alternatingGets({ ...all.urls, ...two.urls }, quick ? 1 : 3, quick ? 3 : 5);
  } finally {
    await Promise.all([...fullNodes, ...twoNodes].map((x) => x.stop()));
  }
  const out = [
    `${keys.toLocaleString("en")} keys of 100-byte values on 5 nodes; means per node.`,
    "",
    "| mode | keys per node | store MiB per node | RSS growth MiB per node | max/mean keys | load avg |",
    "|---|---|---|---|---|---|",
  ];
  for (const [mode, r] of [["REPLICAS=all", all], ["REPLICAS=2", two]] as const) {
    out.push(
      `| ${mode} | ${r.entries.join(" / ")} | ${r.storeMib.toFixed(1)} | ${
        r.rssGrowthMib.toFixed(1)
      } | ${r.balance.toFixed(3)} | ${r.load} |`,
    );
  }
  out.push(
    "",
    `REPLICAS=2 / REPLICAS=all per node: store ${
      (two.storeMib / all.storeMib).toFixed(2)
    }×, RSS growth ${(two.rssGrowthMib / all.rssGrowthMib).toFixed(2)}× (2/5 = 0.40).`,
    "",
    `| GET of a 100-byte hit on node 0 (median of ${
      quick ? 1 : 3
    } alternating rounds, load ${loadAverage()}) | req/s | vs REPLICAS=all |`,
    "|---|---|---|",
    `| REPLICAS=all (every key local) | ${rps.all.toFixed(0)} | 1.00× |`,
    `| REPLICAS=2, key owned by node 0 | ${rps.local.toFixed(0)} | ${
      (rps.local / rps.all).toFixed(2)
    }× |`,
    `| REPLICAS=2, key forwarded to its owner | ${rps.forwarded.toFixed(0)} | ${
      (rps.forwarded / rps.all).toFixed(2)
    }× |`,
    "",
  );
  const rbKeys = quick ? 50_000 : 1_000_000;
  const rb = await rebalanceRun(rbKeys);
  out.push(
    "| keys (× 2 copies) on 5 nodes | 6th node ready after start (ms) | 2 copies of every key again (ms) | keys the 6th node took | load avg |",
    "|---|---|---|---|---|",
    `| ${rbKeys.toLocaleString("en")} | ${rb.readyMs.toFixed(0)} | ${rb.settledMs.toFixed(0)} | ${
      rb.joinerKeys.toLocaleString("en")
    } (ideal ${(2 * rbKeys / 6).toFixed(0)}) | ${rb.load} |`,
  );
  return out;
}

if (import.meta.main) {
  console.log(
    (await partitionedBench(
      flagsOrExit({ command: "deno run --allow-all scripts/bench/partitioned_bench.ts" }, {
        quick: false,
      }).quick,
    )).join("\n"),
  );
}
