/**
 * What a handler stuck in `while (true) {}` leaves behind, in each worker mode and isolation
 * (issue 21): a node
 * serving `examples/forbidden/worker.ts` with a pool of one and `WORKER_TIMEOUT=1s` gets `/loop`;
 * once the node has replaced the worker, this prints the CPU the node and its child processes
 * spend over the next 3 s (a stuck thread that `Worker.terminate()` did not stop spins one core:
 * about 3,000 ms), how `/loop` was answered, and whether a fresh worker answers.
 * `deno run --allow-all scripts/bench/stuck_worker_check.ts`. Figures: docs/benchmarks.md.
 *
 * @module
 */

import { freePort, NodeProcess, waitFor } from "../../testing/mod.ts";
import { cpuSeconds } from "./http_bench.ts";
import { withChildren } from "./workers_bench.ts";

/** User + system CPU ms of `pid` and its children so far. */
function cpuMs(pid: number): number {
  return cpuSeconds(withChildren(pid)).reduce((a, b) => a + b, 0) * 1000;
}

/** Runs the check for `mode`; returns one markdown table row. */
async function check(mode: "pool" | "direct", isolation: "thread" | "process"): Promise<string> {
  const edgePort = freePort();
  const node = await NodeProcess.start({
    LOG_LEVEL: "error",
    EDGE_PORT: String(edgePort),
    WORKER: "examples/forbidden/worker.ts",
    WORKER_POOL: "1",
    WORKER_TIMEOUT: "1s",
    WORKER_MODE: mode,
    WORKER_ISOLATION: isolation,
  });
  const client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  const get = (path: string) =>
    fetch(`http://127.0.0.1:${edgePort}${path}`, { client }).then(
      async (r) => `${r.status} ${(await r.text()).trim()}`,
      (err) => `failed (${String(err.cause ?? err).slice(0, 40)})`,
    );
  try {
    await waitFor("worker up", async () => (await get("/")).startsWith("200") || undefined, 20_000);
    const loop = await get("/loop");
    const fresh = await waitFor("fresh worker", async () => {
      const answer = await get("/");
      return answer.startsWith("200") ? answer : undefined;
    });
    const before = cpuMs(node.pid);
    await new Promise((r) => setTimeout(r, 3000));
    const spent = cpuMs(node.pid) - before;
    return `| ${mode}, ${isolation} workers | ${loop} | ${fresh} | ${Math.round(spent)} |`;
  } finally {
    client.close();
    await node.stop();
  }
}

if (import.meta.main) {
  console.log(`Load average (1 min) at start: ${Deno.loadavg()[0].toFixed(2)}.\n`);
  console.log("| mode | `/loop` answered | next request | CPU ms of node + children, 3 s after |");
  console.log("| --- | --- | --- | --- |");
  console.log(await check("pool", "thread"));
  console.log(await check("pool", "process"));
  console.log(await check("direct", "process"));
}
