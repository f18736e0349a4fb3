/**
 * `deno task soak`: a 3-node cluster (the README's `deno task run` command) under a steady mixed
 * load — GET, PUT (some with a TTL, so entries keep expiring) and DELETE on a fixed key space at
 * a fixed rate, sent without waiting for earlier answers — for N minutes. Every interval it
 * samples each node's resident memory (RSS, from `ps`) and the client-side latency (p50/p99) of
 * the interval's requests, then fits a least-squares line through the samples after the
 * warm-up: a leak or a slowdown shows as a slope (MiB/min, ms/min). Passes when every node's RSS
 * slope and the p99 slope are under the thresholds and no request failed.
 *
 * Usage: `deno task soak [--minutes 10] [--interval 30] [--rate 200] [--keys 2000] [--seed 1]
 * [--max-rss-slope 2] [--max-latency-slope 1] [--json]` (`--seconds` instead of `--minutes`
 * for short runs). Exits 1 when the run fails.
 *
 * @module
 */

import { type Random, randomInt, SeededRandom } from "../../src/util/random.ts";
import { type NodeProcess, startCluster, statsOf, waitReady } from "../../testing/mod.ts";
import { flagsOrExit } from "../cli_flags.ts";
import { leastSquares, quantile } from "./trend.ts";

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Length of the run, seconds. @default 600 */
  seconds: number;
  /** Length of one sample interval, seconds. @default 30 */
  interval: number;
  /** Requests per second. @default 200 */
  rate: number;
  /** Distinct keys. @default 2000 */
  keys: number;
  /** Seed of keys, operations and values. @default 1 */
  seed: number;
  /** Highest RSS slope a node may show, MiB/min. @default 2 */
  maxRssSlope: number;
  /** Highest p99 latency slope, ms/min. @default 1 */
  maxLatencySlope: number;
}

/** One interval's figures. */
export interface SoakSample {
  /** Middle of the interval, minutes since the load started. */
  minute: number;
  /** Requests answered in the interval. */
  requests: number;
  /** Requests that failed (error, timeout, or a status other than 200 and a GET's 404). */
  errors: number;
  /** Median latency of the interval, ms. */
  p50: number;
  /** 99th percentile latency of the interval, ms. */
  p99: number;
  /** Resident memory of each node, MiB. */
  rssMiB: number[];
  /** Records (live entries and tombstones) each node's store holds. */
  records: number[];
}

/** Everything a soak run measured. */
export interface SoakReport {
  /** The options it ran with. */
  options: SoakOptions;
  /** Every interval. */
  samples: SoakSample[];
  /** Samples skipped as warm-up before fitting. */
  warmupSamples: number;
  /** Slopes fitted after the warm-up: RSS per node (MiB/min), latency (ms/min). */
  slopes: { rssMiBPerMin: number[]; p50MsPerMin: number; p99MsPerMin: number };
  /** Requests sent, failed, and not sent because 256 were already in flight. */
  requests: { sent: number; errors: number; skipped: number };
  /** Whether the slopes stayed under the thresholds with no failed request. */
  passed: boolean;
  /** Load average (1, 5, 15 min) at the end. */
  loadAverage: number[];
}

const MAX_IN_FLIGHT = 256;

/**
 * Resident memory of processes, MiB, from `ps` (Deno grants `/proc/<pid>/status` only with
 * `--allow-all`). Throws naming the process when `ps` does not list it.
 */
export async function rssMiB(pids: readonly number[]): Promise<number[]> {
  const out = await new Deno.Command("ps", {
    args: ["-o", "pid=,rss=", "-p", pids.join(",")],
    stdout: "piped",
    stderr: "null",
  }).output();
  const rss = new Map<number, number>();
  for (const line of new TextDecoder().decode(out.stdout).trim().split("\n")) {
    const [pid, kb] = line.trim().split(/\s+/).map(Number);
    rss.set(pid, kb / 1024);
  }
  return pids.map((pid) => {
    const value = rss.get(pid);
    if (value === undefined) {
      throw new Error(`Cannot read RSS of process ${pid}: ps lists no such process`);
    }
    return value;
  });
}

/** Sends one random request; resolves with its latency and whether it failed. */
async function oneRequest(
  node: NodeProcess,
  random: Random,
  keys: number,
): Promise<{ ms: number; failed: boolean }> {
  const key = `soak-${randomInt(random, keys)}`;
  const roll = random.next();
  const init: RequestInit = { signal: AbortSignal.timeout(10_000) };
  if (roll < 0.3) {
    const ttl = random.next() < 0.3 ? { ttl: 5 + randomInt(random, 26) } : {};
    init.method = "PUT";
    init.headers = { "content-type": "application/json" };
    init.body = JSON.stringify({ value: "x".repeat(200 + randomInt(random, 1800)), ...ttl });
  } else if (roll < 0.4) {
    init.method = "DELETE";
  }
  const started = performance.now();
  try {
    const res = await fetch(node.url(`/cache/${key}`), init);
    await res.body?.cancel();
    const ok = res.status === 200 || (res.status === 404 && init.method === undefined);
    return { ms: performance.now() - started, failed: !ok };
  } catch {
    return { ms: performance.now() - started, failed: true };
  }
}

/** Runs the soak on a fresh 3-node cluster. */
export async function runSoak(
  options: SoakOptions,
  log: (line: string) => void = () => {},
): Promise<SoakReport> {
  const random = new SeededRandom(options.seed);
  const nodes = await startCluster("soak", 3, { GOSSIP_PROFILE: "local", LOG_LEVEL: "warn" });
  try {
    await waitReady(nodes, 60_000);
    const samples: SoakSample[] = [];
    const requests = { sent: 0, errors: 0, skipped: 0 };
    let latencies: number[] = [];
    let errors = 0;
    let inFlight = 0;
    const started = performance.now();
    const intervals = Math.max(1, Math.round(options.seconds / options.interval));
    let nextSample = started + options.interval * 1000;
    const pending = new Set<Promise<void>>();
    while (samples.length < intervals) {
      // Send what is due by now, at the fixed rate, whether or not earlier answers came.
      const due = Math.floor(((performance.now() - started) / 1000) * options.rate);
      while (requests.sent + requests.skipped < due) {
        if (inFlight >= MAX_IN_FLIGHT) {
          requests.skipped++;
          continue;
        }
        requests.sent++;
        inFlight++;
        const p: Promise<void> = oneRequest(
          nodes[randomInt(random, nodes.length)],
          random,
          options.keys,
        )
          .then((r) => {
            latencies.push(r.ms);
            if (r.failed) errors++;
          })
          .finally(() => {
            inFlight--;
            pending.delete(p);
          });
        pending.add(p);
      }
      if (performance.now() >= nextSample) {
        const sorted = latencies.sort((a, b) => a - b);
        const sample: SoakSample = {
          minute: (nextSample - started - (options.interval * 1000) / 2) / 60_000,
          requests: sorted.length,
          errors,
          p50: quantile(sorted, 0.5),
          p99: quantile(sorted, 0.99),
          rssMiB: await rssMiB(nodes.map((n) => n.pid)),
          records: await Promise.all(nodes.map(async (n) => {
            const { store } = await statsOf(n);
            return store.entries + store.tombstones;
          })),
        };
        samples.push(sample);
        requests.errors += errors;
        latencies = [];
        errors = 0;
        nextSample += options.interval * 1000;
        log(
          `${
            sample.minute.toFixed(2)
          } min: ${sample.requests} requests, ${sample.errors} errors, p50 ${
            sample.p50.toFixed(2)
          } ms, p99 ${sample.p99.toFixed(2)} ms, records ${sample.records.join("/")}, RSS ${
            sample.rssMiB.map((r) => r.toFixed(1)).join(" / ")
          } MiB`,
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(pending);
    requests.errors += errors;
    // Warm-up: the first tenth of the run (at least one interval) fills the key space and the JIT.
    const warmupSamples = Math.min(
      samples.length - 2,
      Math.max(1, Math.ceil(samples.length / 10)),
    );
    const fitted = samples.slice(Math.max(0, warmupSamples));
    const minutes = fitted.map((s) => s.minute);
    const slopes = {
      rssMiBPerMin: nodes.map((_, i) =>
        leastSquares(minutes, fitted.map((s) => s.rssMiB[i])).slope
      ),
      p50MsPerMin: leastSquares(minutes, fitted.map((s) => s.p50)).slope,
      p99MsPerMin: leastSquares(minutes, fitted.map((s) => s.p99)).slope,
    };
    const passed = requests.errors === 0 &&
      slopes.rssMiBPerMin.every((s) => s <= options.maxRssSlope) &&
      slopes.p99MsPerMin <= options.maxLatencySlope;
    return {
      options,
      samples,
      warmupSamples: Math.max(0, warmupSamples),
      slopes,
      requests,
      passed,
      loadAverage: Deno.loadavg(),
    };
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
}

/** Default options of the command line. */
const DEFAULTS: SoakOptions = {
  seconds: 600,
  interval: 30,
  rate: 200,
  keys: 2000,
  seed: 1,
  maxRssSlope: 2,
  maxLatencySlope: 1,
};

/** A human-readable summary of a report. */
export function summary(r: SoakReport): string {
  const s = r.slopes;
  return [
    `soak: ${r.options.seconds} s at ${r.options.rate} requests/s (60 % GET, 30 % PUT, 10 % DELETE) over ${r.options.keys} keys on 3 nodes, ${r.samples.length} samples of ${r.options.interval} s (${r.warmupSamples} warm-up)`,
    `  requests: ${r.requests.sent} sent, ${r.requests.errors} failed, ${r.requests.skipped} not sent (${MAX_IN_FLIGHT} in flight)`,
    `  RSS slope per node: ${
      s.rssMiBPerMin.map((x) => x.toFixed(3)).join(" / ")
    } MiB/min (limit ${r.options.maxRssSlope}); latency slope p50 ${
      s.p50MsPerMin.toFixed(3)
    }, p99 ${s.p99MsPerMin.toFixed(3)} ms/min (limit ${r.options.maxLatencySlope})`,
    `  first → last sample: RSS ${r.samples[0]?.rssMiB.map((x) => x.toFixed(1)).join("/")} → ${
      r.samples.at(-1)?.rssMiB.map((x) => x.toFixed(1)).join("/")
    } MiB; p50 ${r.samples[0]?.p50.toFixed(2)} → ${r.samples.at(-1)?.p50.toFixed(2)} ms; p99 ${
      r.samples[0]?.p99.toFixed(2)
    } → ${r.samples.at(-1)?.p99.toFixed(2)} ms`,
    `  ${r.passed ? "PASS" : "FAIL"}; load average ${
      r.loadAverage.map((l) => l.toFixed(2)).join(" ")
    }`,
  ].join("\n");
}

if (import.meta.main) {
  const { json, minutes, ...options } = flagsOrExit({ command: "deno task soak" }, {
    ...DEFAULTS,
    minutes: 0,
    json: false,
  });
  if (minutes > 0) options.seconds = minutes * 60;
  const report = await runSoak(options, (line) => console.error(`soak: ${line}`));
  console.log(json ? JSON.stringify(report) : summary(report));
  Deno.exit(report.passed ? 0 : 1);
}
