/**
 * Before/after of the HTTP hot path: a node of another checkout (`--before DIR`, e.g. a
 * `git worktree` of an earlier commit) and a node of this one, both pinned to core 0 with the
 * same 10,000 keys, wrk pinned to core 1, in alternating runs of GET hit, HEAD hit and PUT
 * (JSON, 100 B). Prints, per operation, the medians of each node's req/s and CPU µs per request
 * (`/proc/<pid>/stat`) and the after ÷ before ratios. A change of the node's own cost shows
 * here without the run-to-run noise of the bare `Deno.serve` comparison of `deno task bench
 * http`, which it complements.
 *
 * Usage: `deno run --allow-all scripts/bench/http_ab_bench.ts --before DIR [--seconds 5]
 * [--rounds 4]`
 *
 * @module
 */

import { commandLineOrExit } from "../cli_flags.ts";
import { NodeProcess } from "../../testing/mod.ts";
import {
  headLoad,
  load,
  luaScript,
  measured,
  PINNED,
  putLua,
  wrk,
  type WrkResult,
} from "./http_bench.ts";

// Marks the op that `head_load.go` runs instead of wrk (see `headLoad`).
const HEAD = "HEAD";

/** One op's load for `seconds`: wrk with `script`, or `headLoad` for {@link HEAD}. */
function loadOf(url: string, seconds: number, script: string | undefined): Promise<WrkResult> {
  return script === HEAD ? headLoad(url, seconds, PINNED) : wrk(url, seconds, script, PINNED);
}

type Testing = typeof import("../../testing/mod.ts");

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

if (import.meta.main) {
  const { flags } = commandLineOrExit(
    { command: "deno run --allow-all scripts/bench/http_ab_bench.ts" },
    { seconds: 5, rounds: 4, before: "" },
  );
  if (!flags.before) {
    console.error("http_ab_bench: --before DIR names the checkout to compare with");
    Deno.exit(2);
  }
  const dir = await Deno.realPath(flags.before);
  const earlier: Testing = await import(`file://${dir}/testing/mod.ts`);
  console.log(`load average at start: ${Deno.loadavg()[0].toFixed(2)}`);
  const env = { LOG_LEVEL: "warn" };
  const nodes = {
    before: await earlier.NodeProcess.start(env, { cpus: "0" }) as unknown as NodeProcess,
    after: await NodeProcess.start(env, { cpus: "0" }),
  };
  const scripts = {
    put: await luaScript(putLua()),
  };
  try {
    await load(nodes.before);
    await load(nodes.after);
    const ops = [
      { name: "GET hit", path: "/cache/k42", script: undefined },
      { name: "HEAD hit", path: "/cache/k42", script: HEAD },
      { name: "PUT (JSON, 100 B)", path: "/", script: scripts.put },
    ];
    for (const op of ops) {
      const runs: Record<"before" | "after", WrkResult[]> = { before: [], after: [] };
      for (const which of ["before", "after"] as const) { // warm-up (JIT)
        await loadOf(nodes[which].url(op.path), 2, op.script);
      }
      for (let r = 0; r < flags.rounds; r++) {
        for (const which of ["before", "after"] as const) {
          const node = nodes[which];
          runs[which].push(
            await measured(
              [node.pid],
              () => loadOf(node.url(op.path), flags.seconds, op.script),
            ),
          );
        }
      }
      const rps = (w: WrkResult[]) => median(w.map((x) => x.rps));
      const cpu = (w: WrkResult[]) => median(w.map((x) => x.cpuUs!));
      console.log(
        `${op.name}: before ${rps(runs.before).toFixed(0)} req/s, ${
          cpu(runs.before).toFixed(2)
        } µs/req; after ${rps(runs.after).toFixed(0)} req/s, ${
          cpu(runs.after).toFixed(2)
        } µs/req; after ÷ before: ${(rps(runs.after) / rps(runs.before)).toFixed(2)}× req/s, ${
          (cpu(runs.after) / cpu(runs.before)).toFixed(2)
        }× CPU (rounds: ${runs.after.map((a, i) => (a.rps / runs.before[i].rps).toFixed(2))})`,
      );
    }
  } finally {
    await Promise.all([nodes.before.stop(), nodes.after.stop()]);
    await Promise.all(Object.values(scripts).map((s) => Deno.remove(s)));
  }
  console.log(`load average at the end: ${Deno.loadavg()[0].toFixed(2)}`);
}
