/**
 * Edge workers benchmark (issue 21): one node started with the `run` task, pinned to core 0 with
 * a pool of one worker (`WORKER_POOL=1`, the one core), wrk pinned to core 1, alternating rounds
 * in one run. Pairs: the hello-world worker (`examples/hello/worker.ts`, 100 bytes) against a
 * bare `Deno.serve` answering the same body (target ≥ 0.5×), and a worker answering one
 * `env.CACHE.get` hit against `GET /cache/{key}` of the same entry (target ≥ 0.4×); p99 of each,
 * so the latency the pool adds shows, and the server's CPU time per request (from /proc, which a
 * busy machine disturbs less than throughput). Figures: docs/benchmarks.md.
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

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs the workers benchmark; returns markdown lines. */
export async function workersBench(seconds: number, rounds: number): Promise<string[]> {
  const load = Deno.loadavg()[0];
  const edgePort = freePort();
  const raw = await startRaw();
  const node = await NodeProcess.start({
    LOG_LEVEL: "warn",
    EDGE_PORT: String(edgePort),
    WORKER: "examples/hello/worker.ts",
    WORKER_POOL: "1",
  }, { cpus: "0" });
  const edge = `http://127.0.0.1:${edgePort}`;
  try {
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
    const cases: Record<string, string> = {
      raw: `${raw.url}/`,
      hello: `${edge}/`,
      cacheGet: node.url(`/cache/${encodeURIComponent("kv:CACHE:k")}`),
      workerGet: `${edge}/kv/k`,
    };
    const results: Record<string, WrkResult[]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const [name, url] of Object.entries(cases)) {
        const pid = name === "raw" ? raw.pid : node.pid;
        (results[name] ??= []).push(
          await measured([pid], () => wrk(url, seconds, undefined, PINNED)),
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
      }); node (pool of 1 worker) and bare server on core 0, wrk on core 1 (1 thread, 50 connections); ${rounds} alternating rounds of ${seconds} s, medians.`,
      "",
      "| case | requests/s | p99 ms | server CPU µs/request | ratio (requests/s) | ratio (CPU) |",
      "| --- | --- | --- | --- | --- | --- |",
      row("bare Deno.serve, 100 B", "raw"),
      row("hello-world worker, 100 B", "hello", "raw", "≥ 0.5×"),
      row("GET /cache/{key} (100 B hit)", "cacheGet"),
      row("worker: one env.CACHE.get hit", "workerGet", "cacheGet", "≥ 0.4×"),
    ];
  } finally {
    await node.stop();
    await raw.stop();
  }
}

if (import.meta.main) console.log((await workersBench(3, 3)).join("\n"));
