/**
 * What a V8 setting costs on the hot path (issue 15's memory work): two nodes pinned to the server
 * core, one with default V8 flags and one with `--flags` (e.g. `--optimize-for-size`, which makes
 * V8 collect garbage sooner and keeps the resident set closer to the live heap: see
 * `scripts/bench/rss_bench.ts`), wrk on the other core; GET hit and PUT in alternating rounds;
 * req/s and the server's CPU time per request, with the ratios flagged ÷ default.
 *
 * Usage: `deno run --allow-all scripts/bench/v8_flags_bench.ts --flags=--optimize-for-size
 * [--seconds 5] [--rounds 3]`
 *
 * @module
 */

import { commandLineOrExit } from "../cli_flags.ts";
import { NodeProcess } from "../../testing/mod.ts";
import {
  IDLE_LOAD,
  luaScript,
  measured,
  putLua,
  wrk,
  type WrkOptions,
  type WrkResult,
} from "./http_bench.ts";

const PINNED: WrkOptions = { threads: 1, connections: 50, cpus: "1" };

async function fill(node: NodeProcess, keys: number): Promise<void> {
  for (let i = 0; i < keys; i += 100) {
    await Promise.all(Array.from({ length: 100 }, async (_, j) => {
      const r = await fetch(node.url(`/cache/k${i + j}`), {
        method: "PUT",
        headers: { "content-type": "text/plain" },
        body: "v".repeat(100),
      });
      await r.body?.cancel();
    }));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the comparison; returns markdown lines. */
export async function v8FlagsBench(
  flags: string,
  seconds: number,
  rounds: number,
): Promise<string[]> {
  const load = Deno.loadavg()[0];
  const plain = await NodeProcess.start({ LOG_LEVEL: "warn" }, { cpus: "0" });
  const flagged = await NodeProcess.start(
    { LOG_LEVEL: "warn", DENO_V8_FLAGS: flags },
    { cpus: "0" },
  );
  const put = await luaScript(putLua());
  const lines = [
    `Load average at start ${load.toFixed(2)}${load > IDLE_LOAD ? " (NOT IDLE)" : ""}; ` +
    `${rounds} alternating rounds of ${seconds} s; V8 flags of the second node: \`${flags}\`.`,
    "",
    "| operation | default req/s | flagged req/s | ratio | CPU µs/req default / flagged |",
    "| --- | --- | --- | --- | --- |",
  ];
  try {
    await fill(plain, 10_000);
    await fill(flagged, 10_000);
    for (const [name, path, script] of [["GET hit", "/cache/k42", undefined], ["PUT", "/", put]]) {
      const runs: Record<"plain" | "flagged", WrkResult[]> = { plain: [], flagged: [] };
      for (let r = 0; r < rounds; r++) {
        for (const [which, node] of [["plain", plain], ["flagged", flagged]] as const) {
          runs[which].push(
            await measured([node.pid], () => wrk(node.url(path!), seconds, script, PINNED)),
          );
        }
      }
      const rps = (w: WrkResult[]) => median(w.map((x) => x.rps));
      const cpu = (w: WrkResult[]) => median(w.map((x) => x.cpuUs ?? NaN));
      lines.push(
        `| ${name} | ${rps(runs.plain).toFixed(0)} | ${rps(runs.flagged).toFixed(0)} | ${
          (rps(runs.flagged) / rps(runs.plain)).toFixed(2)
        }× | ${cpu(runs.plain).toFixed(1)} / ${cpu(runs.flagged).toFixed(1)} |`,
      );
    }
  } finally {
    await Promise.all([plain.stop(), flagged.stop()]);
  }
  return lines;
}

if (import.meta.main) {
  const { flags } = commandLineOrExit(
    { command: "deno run --allow-all scripts/bench/v8_flags_bench.ts" },
    { flags: "--optimize-for-size", seconds: 5, rounds: 3 },
  );
  console.log((await v8FlagsBench(flags.flags, flags.seconds, flags.rounds)).join("\n"));
}
