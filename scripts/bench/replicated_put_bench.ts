/**
 * Where a replicated write's CPU goes (issue 15): 3 nodes pinned to core 0, wrk on core 1
 * sending `PUT` with `X-Write-Acks: all` (JSON, 100 B values, 10,000 keys) to node 0, and per
 * round the CPU time (`/proc/<pid>/stat` user + system) each node spent per write: node 0 takes
 * the PUT and sends the batches, nodes 1 and 2 apply them. Also the records per batch node 0
 * sent. CPU per write is the figure other load on a shared machine disturbs least; throughput is
 * printed but not compared.
 *
 * `--before DIR` names another checkout of cachenode (e.g. a `git worktree` of the previous
 * commit): its nodes and this checkout's then run in alternating rounds, each cluster started
 * fresh, and the medians of both are printed. Each round has a warm-up run of the same length
 * first.
 *
 * Usage: `deno run --allow-all scripts/bench/replicated_put_bench.ts [--seconds 3] [--rounds 3]
 * [--before DIR] [--acks all]`
 *
 * @module
 */

import { commandLineOrExit } from "../cli_flags.ts";
import { cpuSeconds, luaScript, putLua, startPinnedCluster, wrk } from "./http_bench.ts";

// Another checkout's testing helpers start that checkout's nodes.
type Testing = typeof import("../../testing/mod.ts");

interface Round {
  build: string;
  rps: number;
  cpuUs: number[];
  recordsPerBatch: number;
}

const WRK = { threads: 1, connections: 50, cpus: "1" };

async function batchesSent(url: string): Promise<{ batches: number; records: number }> {
  const stats = await (await fetch(url)).json();
  return { batches: stats.replication.batchesSent, records: stats.replication.recordsSent };
}

async function round(build: string, testing: Testing, seconds: number, script: string) {
  const nodes = await startPinnedCluster(testing);
  try {
    await wrk(nodes[0].url("/"), seconds, script, WRK); // warm-up (JIT, buffers)
    const pids = nodes.map((n) => n.pid);
    const before = cpuSeconds(pids);
    const sentBefore = await batchesSent(nodes[0].url("/stats"));
    const result = await wrk(nodes[0].url("/"), seconds, script, WRK);
    const cpu = cpuSeconds(pids).map((s, i) => ((s - before[i]) * 1e6) / result.requests!);
    const sent = await batchesSent(nodes[0].url("/stats"));
    const recordsPerBatch = (sent.records - sentBefore.records) /
      Math.max(1, sent.batches - sentBefore.batches);
    return { build, rps: result.rps, cpuUs: cpu, recordsPerBatch };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function describe(r: Round): string {
  const total = r.cpuUs.reduce((a, b) => a + b, 0);
  return `${r.build}: ${total.toFixed(1)} µs/write (node 0 ${r.cpuUs[0].toFixed(1)}, replicas ${
    r.cpuUs[1].toFixed(1)
  } and ${r.cpuUs[2].toFixed(1)}), ${r.rps.toFixed(0)} writes/s, ${
    r.recordsPerBatch.toFixed(1)
  } records per batch`;
}

if (import.meta.main) {
  const { flags } = commandLineOrExit(
    { command: "deno run --allow-all scripts/bench/replicated_put_bench.ts" },
    { seconds: 3, rounds: 3, before: "", acks: "all" },
  );
  const builds: [string, Testing][] = [["this checkout", await import("../../testing/mod.ts")]];
  if (flags.before) {
    const dir = await Deno.realPath(flags.before);
    builds.unshift([`before (${dir})`, await import(`file://${dir}/testing/mod.ts`)]);
  }
  const script = await luaScript(putLua({ "X-Write-Acks": flags.acks }));
  console.log(`load average at start: ${Deno.loadavg()[0].toFixed(2)}`);
  const rounds: Round[] = [];
  try {
    for (let r = 0; r < flags.rounds; r++) {
      for (const [build, testing] of builds) {
        rounds.push(await round(build, testing, flags.seconds, script));
        console.log(`round ${r + 1} ${describe(rounds.at(-1)!)}`);
      }
    }
  } finally {
    await Deno.remove(script);
  }
  console.log(`load average at the end: ${Deno.loadavg()[0].toFixed(2)}; medians:`);
  for (const [build] of builds) {
    const mine = rounds.filter((r) => r.build === build);
    const cpuUs = [0, 1, 2].map((p) => median(mine.map((r) => r.cpuUs[p])));
    const rps = median(mine.map((r) => r.rps));
    const recordsPerBatch = median(mine.map((r) => r.recordsPerBatch));
    console.log(describe({ build, rps, cpuUs, recordsPerBatch }));
  }
}
