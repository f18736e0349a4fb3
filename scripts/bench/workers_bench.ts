/**
 * Edge workers benchmark (issue 21): one node started with the `run` task, pinned to core 0 with
 * a pool of one worker (`WORKER_POOL=1`, the one core), wrk pinned to core 1, alternating rounds
 * in one run. Pairs: the hello-world worker (`examples/hello/worker.ts`, 100 bytes) against a
 * bare `Deno.serve` answering the same body (target ≥ 0.5×), and a worker answering one
 * `env.CACHE.get` hit against `GET /cache/{key}` of the same entry (target ≥ 0.4×); p99 of each,
 * so the latency the pool adds shows, and the server's CPU time per request (from /proc, which a
 * busy machine disturbs less than throughput; with the worker processes of direct mode). Each worker case runs twice: `WORKER_MODE=pool`
 * (the node listens and hands requests to the worker) and `WORKER_MODE=direct` (the worker
 * listens itself), two nodes started side by side, each measured in turn. Figures:
 * docs/benchmarks.md.
 *
 * @module
 */

import { freePort, NodeProcess, waitFor } from "../../testing/mod.ts";
import {
  IDLE_LOAD,
  measured,
  startRaw,
  wrk,
  type WrkOptions,
  type WrkResult,
} from "./http_bench.ts";

const PINNED: WrkOptions = { threads: 1, connections: 50, cpus: "1" };

/** `pid` and its child processes (direct mode's worker processes), from Linux `/proc`. */
export function withChildren(pid: number): number[] {
  const children: number[] = [];
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    const text = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
    if (text) children.push(...text.split(/\s+/).map(Number));
  }
  return [pid, ...children];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs the workers benchmark; returns markdown lines. */
export async function workersBench(seconds: number, rounds: number): Promise<string[]> {
  const load = Deno.loadavg()[0];
  const raw = await startRaw();
  const nodes: NodeProcess[] = [];
  const start = async (mode: string, isolation = "thread") => {
    const edgePort = freePort();
    const node = await NodeProcess.start({
      LOG_LEVEL: "warn",
      EDGE_PORT: String(edgePort),
      WORKER: "examples/hello/worker.ts",
      WORKER_POOL: "1",
      WORKER_MODE: mode,
      WORKER_ISOLATION: isolation,
    }, { cpus: "0" });
    nodes.push(node);
    const edge = `http://127.0.0.1:${edgePort}`;
    await waitFor("worker listening", async () => {
      const r = await fetch(edge).catch(() => undefined);
      await r?.body?.cancel();
      return r?.ok || undefined;
    }, 20_000);
    const put = await fetch(node.url(`/cache/${encodeURIComponent("kv:CACHE:k")}`), {
      method: "PUT",
      headers: { "content-type": "text/plain" },
      body: "v".repeat(100),
    });
    await put.body?.cancel();
    return { node, edge };
  };
  try {
    const pool = await start("pool");
    const direct = await start("direct");
    const pooled = await start("pool", "process");
    const cases: Record<string, [string, number]> = {
      raw: [`${raw.url}/`, raw.pid],
      hello: [`${pool.edge}/`, pool.node.pid],
      helloDirect: [`${direct.edge}/`, direct.node.pid],
      helloProcess: [`${pooled.edge}/`, pooled.node.pid],
      cacheGet: [pool.node.url(`/cache/${encodeURIComponent("kv:CACHE:k")}`), pool.node.pid],
      workerGet: [`${pool.edge}/kv/k`, pool.node.pid],
      workerGetDirect: [`${direct.edge}/kv/k`, direct.node.pid],
      workerGetProcess: [`${pooled.edge}/kv/k`, pooled.node.pid],
    };
    const results: Record<string, WrkResult[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const [name, [url, pid]] of Object.entries(cases)) {
        (results[name] ??= []).push(
          await measured(withChildren(pid), () => wrk(url, seconds, undefined, PINNED)),
        );
      }
    }
    const rps = (name: string) => median(results[name].map((x) => x.rps));
    const p99 = (name: string) => median(results[name].map((x) => x.p99));
    const cpu = (name: string) => median(results[name].map((x) => x.cpuUs ?? NaN));
    const row = (what: string, name: string, base?: string, target?: string) =>
      `| ${what} | ${rps(name).toFixed(0)} | ${p99(name)} | ${cpu(name).toFixed(1)} | ${
        base
          ? `${(rps(name) / rps(base)).toFixed(2)}× (target ${target}) | ${
            (cpu(base) / cpu(name)).toFixed(2)
          }×`
          : "1.00 | 1.00"
      } |`;
    return [
      `Load average (1 min) at start: ${load.toFixed(2)} (${
        load <= IDLE_LOAD ? "idle" : "NOT IDLE: figures disturbed"
      }); nodes (1 worker each) and bare server on core 0, wrk on core 1 (1 thread, 50 connections); ${rounds} alternating rounds of ${seconds} s, medians.`,
      "",
      "| case | requests/s | p99 ms | server CPU µs/request | ratio (requests/s) | ratio (CPU) |",
      "| --- | --- | --- | --- | --- | --- |",
      row("bare Deno.serve, 100 B", "raw"),
      row("hello-world worker, 100 B (pool)", "hello", "raw", "≥ 0.5×"),
      row("hello-world worker, 100 B (direct)", "helloDirect", "raw", "≥ 0.5×"),
      row("hello-world worker, 100 B (pool, processes)", "helloProcess", "raw", "≥ 0.5×"),
      row("GET /cache/{key} (100 B hit)", "cacheGet"),
      row("worker: one env.CACHE.get hit (pool)", "workerGet", "cacheGet", "≥ 0.4×"),
      row("worker: one env.CACHE.get hit (direct)", "workerGetDirect", "cacheGet", "≥ 0.4×"),
      row(
        "worker: one env.CACHE.get hit (pool, processes)",
        "workerGetProcess",
        "cacheGet",
        "≥ 0.4×",
      ),
    ];
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
    await raw.stop();
  }
}

if (import.meta.main) console.log((await workersBench(3, 3)).join("\n"));
