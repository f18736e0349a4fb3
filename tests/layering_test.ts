/**
 * The import rules of docs/architecture.md, checked on the source text: each folder of `src/`
 * imports only folders below it (so no folder imports back up and no file circle can form), no
 * file imports another folder's `_`-prefixed file, and the harness (`testing/`) imports neither
 * `tests/` nor `scripts/`.
 */

import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));

/** The folders of `src/`, bottom first: a folder may import only folders before it. */
const LAYERS = [
  "util",
  // The client runs outside Deno too: it may import only util's pure helpers (hash, base64).
  "client",
  "config",
  "store",
  "transport",
  "membership",
  "replication",
  "service",
  "edge",
  "workers",
  "metrics",
  "dashboard",
  "http",
  "node",
];

const IMPORT = /(?:import|export)\s[^;]*?from\s+"(\.[^"]+)"|import\s+"(\.[^"]+)"/gs;

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(join(ROOT, dir))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) yield* sources(path);
    else if (entry.name.endsWith(".ts")) yield path;
  }
}

/** Every relative import of every `.ts` file under `dirs`: [importer, imported], repo-relative. */
async function imports(...dirs: string[]): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const dir of dirs) {
    for await (const file of sources(dir)) {
      const text = await Deno.readTextFile(join(ROOT, file));
      for (const m of text.matchAll(IMPORT)) {
        const target = normalize(join(dirname(file), m[1] ?? m[2]));
        // A module doc's usage example naming the module itself is not an import.
        if (target !== file) out.push([file, target]);
      }
    }
  }
  return out;
}

const areaOf = (file: string) => relative("src", file).split("/")[0];
const isTest = (file: string) => file.endsWith("_test.ts");

Deno.test("each src/ folder imports only the folders below it", async () => {
  const wrong: string[] = [];
  for (const [from, to] of await imports("src")) {
    if (isTest(from) || !to.startsWith("src/")) continue;
    const a = LAYERS.indexOf(areaOf(from)), b = LAYERS.indexOf(areaOf(to));
    assert.ok(a >= 0 && b >= 0, `unknown folder in ${from} -> ${to}: add it to LAYERS`);
    if (b > a) wrong.push(`${from} -> ${to}`);
  }
  assert.deepEqual(wrong, []);
});

Deno.test("no file of src/ is in an import circle", async () => {
  const graph = new Map<string, string[]>();
  for (const [from, to] of await imports("src")) {
    if (isTest(from) || isTest(to)) continue;
    graph.set(from, [...(graph.get(from) ?? []), to]);
  }
  const state = new Map<string, "open" | "done">();
  const circles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      circles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(circles, []);
});

Deno.test("no file imports another folder's private (_-prefixed) file", async () => {
  const wrong = (await imports("src", "scripts", "tests", "testing"))
    .filter(([from, to]) => to.split("/").at(-1)!.startsWith("_") && dirname(from) !== dirname(to))
    .map(([from, to]) => `${from} -> ${to}`);
  assert.deepEqual(wrong, []);
});

Deno.test("the harness imports neither tests/ nor scripts/, and scripts never import tests/", async () => {
  const wrong = (await imports("testing", "scripts"))
    .filter(([from, to]) =>
      to.startsWith("tests/") || (from.startsWith("testing/") && to.startsWith("scripts/"))
    )
    .map(([from, to]) => `${from} -> ${to}`);
  assert.deepEqual(wrong, []);
});
