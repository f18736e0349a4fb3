/**
 * Replication benchmark on real processes (nodes started with the `run` task on loopback):
 *
 * - write-to-visible latency at ~1,000 writes/s spread over the nodes: client-observed (PUT
 *   sent on one node → a tight GET loop on another node sees the value, for every 10th write)
 *   and node-side (origin write time → applied on each replica, from `/stats`);
 * - cluster-wide PUT throughput: one wrk per node at once (1 thread, 16 connections, distinct
 *   keys), then the time until every node holds the same data (equal digests);
 * - join: a 4th node joining a 3-node cluster holding N keys, from process start to `/readyz`.
 *
 * @module
 */

import { hlcFromParts } from "../../src/util/hlc.ts";
import {
  bulkLoad,
  NodeProcess,
  startCluster,
  statsOf,
  waitReady,
  waitReadyz,
  waitSameDigest,
} from "../../testing/mod.ts";

const BASE_ENV = { GOSSIP_PROFILE: "local", LOG_LEVEL: "warn", MAX_MEMORY: "0" };

/** The 1-minute load average (the machine is shared: it says how busy it was). */
export function loadAverage(): string {
  try {
    return Deno.readTextFileSync("/proc/loadavg").split(" ")[0];
  } catch {
    return "?";
  }
}

/** CPU time (user + system) a process has used, ms (Linux `/proc`; NaN elsewhere). */
function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

function quantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Polls `node` for `key` until it is there, yielding between GETs. */
async function visible(node: NodeProcess, key: string): Promise<void> {
  for (;;) {
    const res = await fetch(node.url(`/cache/${key}`));
    await res.body?.cancel();
    if (res.status === 200) return;
    await new Promise((r) => setTimeout(r, 0));
  }
}

/**
 * ~`rate` writes/s for `seconds`, spread over the nodes (at most 256 unanswered), while one
 * prober at a time follows a fresh write to the next node (~40 probes/s, so probing adds little
 * load); node-side lag covers every write.
 */
async function measureVisibility(nodes: NodeProcess[], rate: number, seconds: number) {
  const n = nodes.length;
  const latencies: number[] = [];
  // The same probe on the node that took the write: what the client itself adds (its PUT round
  // trip, its polling, its event loop shared with 1,000 writes/s), with no replication in it.
  const floor: number[] = [];
  const total = rate * seconds;
  const started = performance.now();
  let outstanding = 0;
  let done = false;
  const writes: { key: string; at: number; node: number }[] = [];
  const prober = (async () => {
    while (!done) {
      const w = writes[writes.length - 1];
      if (w) {
        const same = (latencies.length + floor.length) % 2 === 1;
        await visible(nodes[same ? w.node : (w.node + 1) % n], w.key);
        (same ? floor : latencies).push(performance.now() - w.at);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1 || outstanding >= 256) await new Promise((r) => setTimeout(r, Math.max(wait, 1)));
    const key = `vis-${i}`;
    const at = performance.now();
    outstanding++;
    pending.push(
      fetch(nodes[i % n].url(`/cache/${key}`), {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: '{"value":"' + "v".repeat(100) + '","ttl":600}',
      }).then(async (r) => {
        await r.body?.cancel();
        outstanding--;
      }),
    );
    writes.push({ key, at, node: i % n });
  }
  await Promise.all(pending);
  const writesPerSec = total / ((performance.now() - started) / 1000);
  done = true;
  await prober;
  const lags = await Promise.all(nodes.map(async (x) => (await statsOf(x)).replication.lagMs));
  return {
    writesPerSec,
    clientP50: quantile(latencies, 0.5),
    clientP99: quantile(latencies, 0.99),
    floorP50: quantile(floor, 0.5),
    floorP99: quantile(floor, 0.99),
    nodeP50: quantile(lags.map((l) => l.p50), 0.5),
    nodeP99: Math.max(...lags.map((l) => l.p99)),
  };
}

async function wrkPut(node: NodeProcess, prefix: string, seconds: number, script: string) {
  const out = await new Deno.Command("wrk", {
    args: ["-t1", "-c16", `-d${seconds}s`, "-s", script, node.url(`/${prefix}`)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  if (!out.success || !Number.isFinite(rps) || /Non-2xx/.test(text)) {
    throw new Error(`wrk failed: ${text}`);
  }
  return rps;
}

/** Every node loaded at once by its own wrk; returns PUT/s summed and time to convergence. */
async function measureThroughput(nodes: NodeProcess[], seconds: number) {
  const script = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    script,
    `wrk.method = "PUT"\nwrk.headers["Content-Type"] = "application/json"\ncounter = 0\n` +
      `request = function()\n  counter = counter + 1\n` +
      `  return wrk.format(nil, wrk.path .. "-" .. counter, nil, '{"value":"${
        "v".repeat(100)
      }","ttl":600}')\nend\n`,
  );
  try {
    const rps = await Promise.all(nodes.map((x, i) => wrkPut(x, `cache/tp${i}`, seconds, script)));
    const ended = performance.now();
    await waitSameDigest(nodes, 120_000);
    const convergeMs = performance.now() - ended;
    const stats = await Promise.all(nodes.map(statsOf));
    const dropped = stats.reduce((s, x) => s + x.replication.droppedRecords, 0);
    const repaired = stats.reduce((s, x) => s + x.replication.antiEntropy.repairedIn, 0);
    return { rps: rps.reduce((a, b) => a + b, 0), convergeMs, dropped, repaired };
  } finally {
    await Deno.remove(script);
  }
}

async function clusterRun(n: number, seconds: number, flushDelay: string) {
  const nodes = await startCluster(`bench-r${n}`, n, {
    ...BASE_ENV,
    REPLICATION_FLUSH_DELAY: flushDelay,
  });
  try {
    await waitReady(nodes, 60_000);
    await measureVisibility(nodes, 1000, 2); // warm-up (JIT, connections)
    const vis = await measureVisibility(nodes, 1000, seconds);
    const load = loadAverage();
    const tp = await measureThroughput(nodes, Math.max(3, seconds / 2));
    return { vis, tp, load };
  } finally {
    await Promise.all(nodes.map((x) => x.stop()));
  }
}

/** Time for a 4th node to be ready in a 3-node cluster holding `keys` keys. */
async function measureJoin(keys: number) {
  const nodes = await startCluster(`bench-j${keys}`, 3, BASE_ENV);
  let joiner: NodeProcess | undefined;
  try {
    await waitReady(nodes, 60_000);
    const now = Date.now();
    const records = Array.from({ length: keys }, (_, i) => ({
      key: `key-${i}`,
      value: "v".repeat(100),
      expiresAt: i % 2 === 0 ? 0 : now + 3_600_000,
    }));
    for (const x of nodes) await bulkLoad(x, records, "loader", hlcFromParts(now));
    await waitSameDigest(nodes, 60_000);
    const started = performance.now();
    const j = joiner = await NodeProcess.start({
      ...BASE_ENV,
      NODE_NAME: `bench-j${keys}-joiner`,
      PEER: `127.0.0.1:${nodes[0].gossipPort}`,
    });
    await waitReadyz(j, 120_000, 10);
    const readyMs = performance.now() - started;
    const joinerCpuMs = cpuMs(j.pid);
    const s = await statsOf(j);
    if (s.store.entries !== keys) throw new Error(`joiner holds ${s.store.entries} of ${keys}`);
    return {
      readyMs,
      copyMs: s.replication.antiEntropy.initialSync.ms,
      joinerCpuMs,
      load: loadAverage(),
    };
  } finally {
    await Promise.all([...nodes, ...(joiner ? [joiner] : [])].map((x) => x.stop()));
  }
}

/** Runs every measurement; returns markdown lines. */
export async function replicationBench(quick: boolean): Promise<string[]> {
  const seconds = quick ? 3 : 10;
  const out = [
    "| nodes | flush delay | writes/s offered | visible on another node p50 / p99 (client, ms) | same probe on the writing node p50 / p99 (client floor, ms) | applied p50 / p99 (node lag, ms) | cluster PUT/s (wrk per node) | converged after load (ms) | dropped / repaired | load avg |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  const configs: [number, string][] = quick
    ? [[3, "0"], [5, "0"]]
    : [[3, "0"], [3, "2ms"], [5, "0"], [5, "2ms"]];
  for (const [n, delay] of configs) {
    const { vis, tp, load } = await clusterRun(n, seconds, delay);
    out.push(
      `| ${n} | ${delay} | ${vis.writesPerSec.toFixed(0)} | ${vis.clientP50.toFixed(2)} / ${
        vis.clientP99.toFixed(2)
      } | ${vis.floorP50.toFixed(2)} / ${
        vis.floorP99.toFixed(2)
      } | ${vis.nodeP50} / ${vis.nodeP99} | ${tp.rps.toFixed(0)} | ${
        tp.convergeMs.toFixed(0)
      } | ${tp.dropped} / ${tp.repaired} | ${load} |`,
    );
  }
  out.push(
    "",
    "| keys in the cluster | run | joiner ready after start (ms) | of which the copy (ms) | joiner CPU until ready (ms) | load avg |",
    "|---|---|---|---|---|---|",
  );
  for (const keys of quick ? [100_000] : [100_000, 1_000_000]) {
    for (let run = 1; run <= (quick ? 1 : 2); run++) {
      const j = await measureJoin(keys);
      out.push(
        `| ${keys} | ${run} | ${j.readyMs.toFixed(0)} | ${j.copyMs} | ${
          j.joinerCpuMs.toFixed(0)
        } | ${j.load} |`,
      );
    }
  }
  return out;
}
