import assert from "node:assert/strict";
import { catalogueRows, METRIC_CATALOGUE, NOT_EXPORTED } from "./catalogue.ts";

Deno.test("METRIC_CATALOGUE follows Prometheus naming: _total counters, base-unit suffixes", () => {
  const names = new Set<string>();
  for (const spec of METRIC_CATALOGUE) {
    assert.ok(!names.has(spec.name), `${spec.name} listed twice`);
    names.add(spec.name);
    assert.match(spec.name, /^(cache|process)_[a-z0-9_]+$/);
    assert.equal(spec.type === "counter", spec.name.endsWith("_total"), spec.name);
    assert.doesNotMatch(spec.name, /_(ms|msec|kb|mb|bytes_[a-z]+_bytes)(_|$)/, spec.name);
    const base = spec.name.replace(/_total$/, "");
    if (spec.unit !== "") assert.ok(base.endsWith(`_${spec.unit}`), spec.name);
    else assert.doesNotMatch(base, /_(seconds|bytes)$/, spec.name);
    if (spec.scale !== undefined) assert.match(spec.stat ?? "", /(Ms|\.ms)(\.|$|Sum$)/, spec.name);
    assert.ok(spec.help.length > 10 && spec.help.endsWith("."), `${spec.name}: ${spec.help}`);
    assert.doesNotMatch(spec.help, /stats field/i);
    // A `{label}` of the stats path is a label of the series.
    for (const [, label] of (spec.stat ?? "").matchAll(/\{(\w+)\}/g)) {
      assert.ok(spec.labels.includes(label), `${spec.name} lacks label ${label}`);
    }
  }
  // The series the README promised and an issue found missing.
  assert.ok(names.has("cache_replication_peers_queue_depth"));
  for (const path of Object.keys(NOT_EXPORTED)) {
    assert.ok(!METRIC_CATALOGUE.some((s) => s.stat === path), `${path} both exported and not`);
  }
});

Deno.test("the README's metrics table is the catalogue (scripts/metrics_table.ts prints it)", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const start = readme.indexOf("<!-- metrics-table:start -->");
  const end = readme.indexOf("<!-- metrics-table:end -->");
  assert.ok(start > 0 && end > start, "README lacks the metrics-table markers");
  const rows = readme.slice(start, end).split("\n")
    .filter((line) => line.startsWith("|"))
    .slice(2) // header and separator
    .map((line) =>
      line.slice(1, -1).split(/(?<!\\)\|/).map((cell) => cell.trim().replaceAll("\\|", "|"))
    );
  assert.deepEqual(rows, catalogueRows());
});
