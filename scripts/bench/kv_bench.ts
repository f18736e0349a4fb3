/**
 * KV API benchmark (issue 17), on one node started with the `run` task and pinned to core 0, with
 * wrk pinned to core 1 (as `http_bench.ts` does), in alternating rounds in one run: keys read per
 * second by single GETs against `POST /batch` of 100 gets, keys written per second by single PUTs
 * against `POST /batch` of 100 puts, and `POST /cache/{key}/incr` (the node is the key's primary) against a plain PUT of the same size.
 * Reports medians and ratios with the load average of the run.
 *
 * @module
 */

import { NodeProcess, waitFor } from "../../testing/mod.ts";
import { IDLE_LOAD, wrk, type WrkOptions, type WrkResult } from "./http_bench.ts";

const PINNED: WrkOptions = { threads: 1, connections: 50, cpus: "1" };

const KEYS = 100;

async function script(body: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(path, body);
  return path;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs the KV benchmark; returns markdown lines. */
export async function kvBench(seconds: number, rounds: number): Promise<string[]> {
  const node = await NodeProcess.start({ LOG_LEVEL: "warn", MAX_MEMORY: "0" }, { cpus: "0" });
  try {
    await waitFor("node ready", async () => {
      const r = await fetch(node.url("/readyz")).catch(() => undefined);
      await r?.body?.cancel();
      return r?.ok || undefined;
    });
    for (let i = 0; i < KEYS; i++) {
      const r = await fetch(node.url(`/cache/k${i}`), {
        method: "PUT",
        headers: { "content-type": "text/plain" },
        body: "x".repeat(100),
      });
      await r.body?.cancel();
    }
    const batch = JSON.stringify({
      ops: Array.from({ length: KEYS }, (_, i) => ({ op: "get", key: `k${i}` })),
    });
    const puts = JSON.stringify({
      ops: Array.from({ length: KEYS }, (_, i) => ({ op: "put", key: `k${i}`, value: "1" })),
    });
    const scripts = {
      get: await script(
        `request = function() return wrk.format("GET", "/cache/k" .. math.random(0, ${
          KEYS - 1
        })) end`,
      ),
      batch: await script(
        `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '${batch}'`,
      ),
      puts: await script(
        `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '${puts}'`,
      ),
      put: await script(
        `wrk.method = "PUT"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '{"value":"1"}'`,
      ),
      incr: await script(
        `wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = '{"by":1}'`,
      ),
    };
    const results: Record<string, WrkResult[]> = {
      get: [],
      batch: [],
      put: [],
      puts: [],
      incr: [],
    };
    const load = Deno.loadavg()[0];
    for (let r = 0; r < rounds; r++) {
      results.get.push(await wrk(node.url("/"), seconds, scripts.get, PINNED));
      results.batch.push(await wrk(node.url("/batch"), seconds, scripts.batch, PINNED));
      results.put.push(await wrk(node.url("/cache/plain"), seconds, scripts.put, PINNED));
      results.puts.push(await wrk(node.url("/batch"), seconds, scripts.puts, PINNED));
      results.incr.push(await wrk(node.url("/cache/counter/incr"), seconds, scripts.incr, PINNED));
    }
    const rps = (name: string) => median(results[name].map((x) => x.rps));
    const p99 = (name: string) => median(results[name].map((x) => x.p99));
    const getKeys = rps("get"), batchKeys = rps("batch") * KEYS;
    return [
      `Load average (1 min) at start: ${load.toFixed(2)} (${
        load <= IDLE_LOAD ? "idle" : "NOT IDLE: figures disturbed"
      }); node on core 0, wrk on core 1 (1 thread, 50 connections); ${rounds} alternating rounds of ${seconds} s, medians.`,
      "",
      "| operation | requests/s | keys/s | p99 ms | ratio |",
      "| --- | --- | --- | --- | --- |",
      `| GET one key | ${getKeys.toFixed(0)} | ${getKeys.toFixed(0)} | ${p99("get")} | 1.00 |`,
      `| POST /batch of ${KEYS} gets | ${rps("batch").toFixed(0)} | ${batchKeys.toFixed(0)} | ${
        p99("batch")
      } | ${(batchKeys / getKeys).toFixed(2)}× keys/s |`,
      `| PUT (JSON) | ${rps("put").toFixed(0)} | ${rps("put").toFixed(0)} | ${p99("put")} | 1.00 |`,
      `| POST /batch of ${KEYS} puts | ${rps("puts").toFixed(0)} | ${
        (rps("puts") * KEYS).toFixed(0)
      } | ${p99("puts")} | ${((rps("puts") * KEYS) / rps("put")).toFixed(2)}× keys/s |`,
      `| POST incr (on its primary) | ${rps("incr").toFixed(0)} | - | ${p99("incr")} | ${
        (rps("incr") / rps("put")).toFixed(2)
      }× PUT |`,
    ];
  } finally {
    await node.stop();
  }
}

if (import.meta.main) console.log((await kvBench(3, 3)).join("\n"));
