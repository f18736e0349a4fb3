/**
 * A real Prometheus (the Debian `prometheus` package) scraping a real 3-node cluster: the
 * check that `/metrics` works where it is used, beyond `promtool check metrics`. Starts the
 * cluster, a Prometheus in a temporary directory on its own loopback port (scrape and evaluation
 * interval 1 s), a steady load of PUTs and GETs, waits `--seconds`, then asks Prometheus' HTTP
 * API for a `rate()` of a counter and for a gauge, and prints the answers as JSON. Exits 1 when
 * a target is down or an answer is missing or wrong (3 targets up; each node counts 3 alive
 * members; the request rate is above zero).
 *
 * Usage: `deno run --allow-all scripts/prometheus_scrape.ts [--seconds 60] [--rate 50]`
 * (`tests/prometheus_scrape_test.ts` runs it for a few seconds).
 *
 * @module
 */

import { findBinary, freePort, NodeProcess, startCluster, waitFor } from "../testing/mod.ts";
import { flagsOrExit } from "./cli_flags.ts";

/** Options of {@link scrapeCluster}. */
export interface ScrapeOptions {
  /** How long Prometheus scrapes the loaded cluster, s. @default 60 */
  seconds: number;
  /** Requests per second of the load (half PUT, half GET). @default 50 */
  rate: number;
}

/** What Prometheus answered. */
export interface ScrapeReport {
  /** Scrape targets and their health, by URL. */
  targets: Record<string, string>;
  /** `sum(rate(cache_http_requests_total{route="/cache/{key}"}[10s]))`: requests/s. */
  requestRate: number;
  /** Requests/s the load sent over the whole run, to compare. */
  loadRate: number;
  /** `cache_membership_members{state="alive"}` per node. */
  aliveMembers: Record<string, number>;
  /** Problems found (empty when Prometheus saw everything it should). */
  problems: string[];
}

type Sample = { metric: Record<string, string>; value: [number, string] };

async function query(base: string, promql: string): Promise<Sample[]> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = await res.json();
  if (body.status !== "success") throw new Error(`${promql}: ${JSON.stringify(body)}`);
  return body.data.result;
}

function prometheusConfig(targets: string[]): string {
  return [
    "global:",
    "  scrape_interval: 1s",
    "  evaluation_interval: 1s",
    "scrape_configs:",
    "  - job_name: cachenode",
    "    static_configs:",
    `      - targets: [${targets.map((t) => JSON.stringify(t)).join(", ")}]`,
    "",
  ].join("\n");
}

/** Sends `rate` requests per second to the nodes in turn until `signal` aborts. */
async function load(nodes: NodeProcess[], rate: number, signal: AbortSignal): Promise<number> {
  let sent = 0;
  const started = Date.now();
  while (!signal.aborted) {
    const node = nodes[sent % nodes.length];
    const key = `k${sent % 100}`;
    const res = await fetch(
      node.url(`/cache/${key}`),
      sent % 2 === 0 ? { method: "PUT", body: JSON.stringify({ value: sent }) } : {},
    ).catch(() => undefined);
    await res?.body?.cancel();
    sent++;
    const due = started + (sent * 1000) / rate;
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
  }
  return sent;
}

/**
 * Starts 3 nodes and a Prometheus scraping them, loads them for `seconds`, and reports what
 * Prometheus answers; stops everything it started. Throws when the prometheus binary is absent.
 */
export async function scrapeCluster(options: ScrapeOptions): Promise<ScrapeReport> {
  const prometheus = findBinary("prometheus");
  if (prometheus === undefined) throw new Error("prometheus not installed (apt: prometheus)");
  const dir = await Deno.makeTempDir({ prefix: "cachenode-prometheus-" });
  const nodes = await startCluster("prom", 3, { GOSSIP_PROFILE: "local" });
  let server: Deno.ChildProcess | undefined;
  const stopLoad = new AbortController();
  try {
    const targets = nodes.map((n) => `127.0.0.1:${n.httpPort}`);
    await Deno.writeTextFile(`${dir}/prometheus.yml`, prometheusConfig(targets));
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    server = new Deno.Command(prometheus, {
      args: [
        `--config.file=${dir}/prometheus.yml`,
        `--storage.tsdb.path=${dir}/data`,
        `--web.listen-address=127.0.0.1:${port}`,
        "--log.level=warn",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    await waitFor("prometheus ready", async () => {
      const res = await fetch(`${base}/-/ready`).catch(() => undefined);
      await res?.body?.cancel();
      return res?.ok ? true : undefined;
    }, 20_000);
    const loadStarted = Date.now();
    const loading = load(nodes, options.rate, stopLoad.signal);
    await new Promise((r) => setTimeout(r, options.seconds * 1000));
    const report: ScrapeReport = {
      targets: {},
      requestRate: 0,
      loadRate: 0,
      aliveMembers: {},
      problems: [],
    };
    // Prometheus starts scraping a few seconds after it is ready: a short run waits for it.
    const up = await waitFor(
      "prometheus to scrape every target",
      async () => {
        const found = await query(base, "up");
        return found.length === targets.length ? found : undefined;
      },
      15_000,
      500,
    ).catch(() => query(base, "up"));
    for (const s of up) report.targets[s.metric.instance] = s.value[1] === "1" ? "up" : "down";
    // rate() needs two scrapes of a series inside its window: a short run may wait a little.
    const rate = await waitFor(
      "a request rate from prometheus",
      async () => {
        const found = await query(
          base,
          'sum(rate(cache_http_requests_total{route="/cache/{key}"}[10s]))',
        );
        return found.length > 0 ? found : undefined;
      },
      15_000,
      500,
    ).catch(() => []);
    report.requestRate = Number(rate[0]?.value[1] ?? 0);
    const alive = await query(base, 'cache_membership_members{state="alive"}');
    for (const s of alive) report.aliveMembers[s.metric.instance] = Number(s.value[1]);
    stopLoad.abort();
    report.loadRate = Math.round((await loading) / ((Date.now() - loadStarted) / 1000) * 10) / 10;
    for (const target of targets) {
      if (report.targets[target] !== "up") report.problems.push(`target ${target} not up`);
      if (report.aliveMembers[target] !== 3) {
        report.problems.push(`${target}: alive members ${report.aliveMembers[target]}, not 3`);
      }
    }
    if (!(report.requestRate > 0)) report.problems.push("no request rate");
    return report;
  } finally {
    stopLoad.abort();
    server?.kill("SIGTERM");
    await server?.status;
    await Promise.all(nodes.map((n) => n.stop()));
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  const flags = flagsOrExit(
    { command: "deno run --allow-all scripts/prometheus_scrape.ts" },
    { seconds: 60, rate: 50 },
  );
  const report = await scrapeCluster(flags);
  console.log(JSON.stringify(report, null, 2));
  if (report.problems.length > 0) Deno.exit(1);
}
