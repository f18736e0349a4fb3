/**
 * One simulation run, in its own process: `deno run ... scripts/sim/run.ts '<spec JSON>'`.
 * Prints the {@link RunResult} as one JSON line on stdout (progress goes to stderr).
 *
 * @module
 */

import { runFalsePositives } from "./false_positives.ts";
import { runPartition } from "./partition.ts";
import { runReplication } from "./replication.ts";
import { runScale } from "./scale.ts";
import type { RunResult, RunSpec } from "./spec.ts";

/** Runs `spec` in this process. */
export function runSpec(spec: RunSpec): Promise<RunResult> {
  if (spec.kind === "scale") return runScale(spec);
  if (spec.kind === "partition") return runPartition(spec);
  return spec.kind === "fp" ? runFalsePositives(spec) : runReplication(spec);
}

if (import.meta.main) {
  const spec = JSON.parse(Deno.args[0] ?? "null") as RunSpec | null;
  if (spec === null || !["scale", "fp", "replication", "partition"].includes(spec.kind)) {
    console.error("usage: run.ts '<RunSpec JSON>'");
    Deno.exit(2);
  }
  const result = await runSpec(spec);
  console.log(JSON.stringify(result));
  // Members' timers would keep running; the result is all we need.
  Deno.exit(0);
}
