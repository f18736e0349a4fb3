/**
 * `scripts/prometheus_scrape.ts` for a few seconds: a real Prometheus (Debian `prometheus`)
 * scrapes a real 3-node cluster under load and answers a `rate()` and a gauge query. The script
 * itself runs a minute by default (README "Metrics"). Reported ignored without prometheus.
 */

import assert from "node:assert/strict";
import { needsBinary } from "../testing/mod.ts";
import { scrapeCluster } from "../scripts/prometheus_scrape.ts";

const prometheus = needsBinary("prometheus", "prometheus");

Deno.test({
  name: `Prometheus scraping 3 nodes answers a rate() and a gauge query${prometheus.skip}`,
  ignore: prometheus.path === undefined,
  async fn() {
    const report = await scrapeCluster({ seconds: 5, rate: 40 });
    assert.deepEqual(report.problems, [], JSON.stringify(report));
    assert.equal(Object.values(report.targets).filter((t) => t === "up").length, 3);
    assert.deepEqual(Object.values(report.aliveMembers), [3, 3, 3]);
    assert.ok(
      report.requestRate > 0 && report.requestRate <= report.loadRate * 1.5,
      JSON.stringify(report),
    );
  },
});
