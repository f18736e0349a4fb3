/**
 * Short runs of `deno task chaos` and `deno task soak` (the tasks' own commands and permissions),
 * as CI runs them: 60 s of faults of every kind on 5 real nodes must lose no acknowledged write,
 * crash no node and end with equal digests; 40 s of steady mixed load on 3 nodes must fail no
 * request and keep RSS within a generous bound.
 */

import assert from "node:assert/strict";
import type { ChaosReport } from "../scripts/chaos/main.ts";
import type { SoakReport } from "../scripts/soak/main.ts";
import { repositoryRoot, runTaskCommand } from "../testing/mod.ts";

async function runTask<T>(task: string, args: string[]): Promise<{ code: number; report: T }> {
  const [program, ...taskArgs] = await runTaskCommand(task);
  const out = await new Deno.Command(program, {
    args: [...taskArgs, ...args],
    cwd: repositoryRoot,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert.ok(text !== "", `${task} printed no report: ${new TextDecoder().decode(out.stderr)}`);
  return { code: out.code, report: JSON.parse(text.split("\n").at(-1)!) };
}

Deno.test("chaos: 60 s of SIGKILL/restart, SIGSTOP/SIGCONT and packet loss lose no acknowledged write", async () => {
  const { code, report } = await runTask<ChaosReport>("chaos", [
    "--seconds",
    "60",
    "--gap",
    "2500",
    "--seed",
    "3",
    "--json",
  ]);
  const o = report.operations;
  console.log(
    `chaos figures: ${o.total} operations (${o.acked} acknowledged), faults ${
      JSON.stringify(report.faults)
    }${
      report.lossSkipped ? ` (loss skipped: ${report.lossSkipped})` : ""
    }, ${report.lost} lost, ${report.crashes.length} crashes, converged in ${report.convergence.ms} ms`,
  );
  // Enough to tell what happened around a loss, in the message (CI shows failures, not logs).
  const around = () =>
    `${JSON.stringify(report.violations.slice(0, 2))}; history: ${
      JSON.stringify(report.violatedKeys).slice(0, 4000)
    }; faults: ${JSON.stringify(report.faultEvents).slice(0, 3000)}`;
  assert.equal(report.violations.length, 0, report.violations.length > 0 ? around() : "");
  assert.equal(report.lost, 0);
  assert.deepEqual(report.crashes, []);
  assert.ok(report.convergence.converged, report.convergence.error ?? "");
  assert.equal(code, 0);
  assert.ok(report.faults.kill >= 1 && report.faults.stop >= 1, JSON.stringify(report.faults));
  if (report.lossSkipped === null) assert.ok(report.faults.loss >= 1);
  assert.ok(o.acked >= 100, `${o.acked} acknowledged operations`);
  assert.equal(report.checked.keys * 5, report.checked.reads);
});

Deno.test("soak: 40 s of steady mixed load fail no request and keep RSS bounded", async () => {
  const { code, report } = await runTask<SoakReport>("soak", [
    "--seconds",
    "40",
    "--interval",
    "5",
    "--rate",
    "100",
    // Per-minute slopes over half a minute are mostly warm-up and noise: only a runaway fails.
    "--max-rss-slope",
    "60",
    "--max-latency-slope",
    "600",
    "--json",
  ]);
  const first = report.samples[report.warmupSamples];
  const last = report.samples.at(-1)!;
  console.log(
    `soak figures: ${report.requests.sent} requests, RSS ${
      first.rssMiB.map((r) => r.toFixed(1))
    } → ${last.rssMiB.map((r) => r.toFixed(1))} MiB, p99 ${first.p99.toFixed(1)} → ${
      last.p99.toFixed(1)
    } ms, slopes ${JSON.stringify(report.slopes)}`,
  );
  assert.equal(report.requests.errors, 0);
  assert.ok(report.samples.length >= 6, `${report.samples.length} samples`);
  for (let i = 0; i < 3; i++) {
    assert.ok(last.rssMiB[i] - first.rssMiB[i] < 48, `node ${i}: RSS grew past 48 MiB`);
    assert.ok(last.rssMiB[i] < 400, `node ${i}: RSS ${last.rssMiB[i]} MiB`);
  }
  assert.ok(report.passed);
  assert.equal(code, 0);
});
