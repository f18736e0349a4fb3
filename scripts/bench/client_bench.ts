/**
 * Client benchmark (`deno task bench client`, issue 18): GET throughput through a
 * {@link CacheClient} that routes each key to an owner against one that always asks one fixed
 * node, on 5 partitioned nodes (`REPLICAS=2`) on loopback. The nodes are pinned to core 0 and the
 * load generator (`client_load.ts`, one process, 32 calls in flight) to core 1, as the other
 * pinned benchmarks do; runs alternate (owners, fixed, owners, fixed...) and the medians and
 * their ratio are reported with the load average at the start (the figures are only worth
 * recording on an idle machine). The claim under test: routed GETs serve at least 2× the
 * requests of fixed-node GETs, because a fixed node forwards the 3/5 of the keys it does not own.
 *
 * @module
 */

import { CacheClient } from "../../client.ts";
import { startCluster, statsOf, waitReady } from "../../testing/mod.ts";
import { cpuSeconds, IDLE_LOAD } from "./http_bench.ts";

const KEYS = 10_000;
const CONCURRENCY = 32;
const ENV = { GOSSIP_PROFILE: "local", LOG_LEVEL: "warn", REPLICAS: "2" };

interface LoadResult {
  gets: number;
  ms: number;
  errors: number;
}

async function runLoad(routing: string, url: string, seconds: number): Promise<LoadResult> {
  const out = await new Deno.Command("taskset", {
    args: [
      "-c",
      "1",
      Deno.execPath(),
      "run",
      "--allow-net",
      new URL("./client_load.ts", import.meta.url).pathname,
      routing,
      url,
      String(KEYS),
      String(seconds),
      String(CONCURRENCY),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) {
    throw new Error(`client_load ${routing}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text.split("\n").at(-1)!);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs the client benchmark; returns markdown lines. */
export async function clientBench(seconds: number, rounds: number): Promise<string[]> {
  // Other load on the machine, before this benchmark adds its own (starting 5 nodes and loading
  // them raises the load average by itself).
  const loadAvg = Deno.loadavg()[0];
  const nodes = await startCluster("bench-client", 5, ENV, { cpus: "0" });
  try {
    await waitReady(nodes, 60_000);
    const writer = new CacheClient({ nodes: [nodes[0].url("")] });
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < KEYS) {
        const i = next++;
        await writer.set(`bench-${i}`, "v".repeat(100), { acks: "all" });
      }
    }));
    await writer.close();
    const rps: Record<string, number[]> = { owners: [], fixed: [] };
    // The nodes' CPU time per GET (all 5 processes): the capacity a routing choice costs the
    // cluster, whatever the one client process on the other core can send.
    const cpuUs: Record<string, number[]> = { owners: [], fixed: [] };
    const nodesCpu = () => cpuSeconds(nodes.map((n) => n.pid)).reduce((a, b) => a + b, 0);
    const forwarded: Record<string, number[]> = { owners: [], fixed: [] };
    const forwardedNow = async () =>
      (await Promise.all(nodes.map(statsOf))).reduce((s, x) => s + (x.forwarding?.reads ?? 0), 0);
    for (let r = 0; r < rounds; r++) {
      for (const routing of ["owners", "fixed"]) {
        const before = await forwardedNow();
        const cpuBefore = nodesCpu();
        const res = await runLoad(routing, nodes[0].url(""), seconds);
        cpuUs[routing].push(((nodesCpu() - cpuBefore) * 1e6) / res.gets);
        if (res.errors > 0) throw new Error(`${routing}: ${res.errors} failed GETs`);
        rps[routing].push(res.gets / (res.ms / 1000));
        forwarded[routing].push((await forwardedNow() - before) / res.gets);
      }
    }
    const owners = median(rps.owners), fixed = median(rps.fixed);
    const cpuOwners = median(cpuUs.owners), cpuFixed = median(cpuUs.fixed);
    return [
      `Load average (1 min) at start: ${loadAvg.toFixed(2)} (${
        loadAvg <= IDLE_LOAD ? "idle" : "NOT IDLE: figures disturbed"
      }); 5 nodes (REPLICAS=2) on core 0, one client process on core 1 (${CONCURRENCY} GETs in ` +
      `flight, ${KEYS.toLocaleString("en")} keys of 100 bytes); ${rounds} alternating rounds of ` +
      `${seconds} s, medians.`,
      "",
      "| client | GET/s | share of GETs forwarded by a node | ratio | nodes' CPU µs per GET | GETs per node CPU second, ratio |",
      "|---|---|---|---|---|---|",
      `| routes each key to an owner | ${owners.toFixed(0)} | ${
        (100 * median(forwarded.owners)).toFixed(1)
      } % | ${(owners / fixed).toFixed(2)}× | ${cpuOwners.toFixed(1)} | ${
        (cpuFixed / cpuOwners).toFixed(2)
      }× |`,
      `| always asks node 0 | ${fixed.toFixed(0)} | ${
        (100 * median(forwarded.fixed)).toFixed(1)
      } % | 1.00× | ${cpuFixed.toFixed(1)} | 1.00× |`,
    ];
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}
