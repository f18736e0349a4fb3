import assert from "node:assert/strict";
import { ConfigError, describeConfig, loadConfig } from "../config/mod.ts";
import { parseWranglerConfig, resolveWorkerSettings } from "./settings.ts";

function load(env: Record<string, string>, args: string[] = []) {
  return loadConfig({ env: (n) => env[n], args, hostname: () => "box" });
}

Deno.test("loadConfig reads the worker settings; a bad value names the variable", () => {
  const c = load({
    ORIGIN: "http://127.0.0.1:9000/",
    EDGE_PORT: "8787",
    WORKER: "workers/app.ts",
    WORKER_KV: "KV, SESSIONS",
    WORKER_VARS: '{"A":"1"}',
    WORKER_POOL: "3",
    WORKER_ALLOW_NET: "api.example.com,10.0.0.1:8080",
    WORKER_TIMEOUT: "2s",
    WORKER_RELOAD: "true",
    WORKER_MEMORY: "64mb",
  });
  assert.equal(c.origin, "http://127.0.0.1:9000");
  assert.equal(c.edgePort, 8787);
  assert.equal(c.worker, "workers/app.ts");
  assert.deepEqual(c.workerKv, ["KV", "SESSIONS"]);
  assert.equal(c.workerPool, 3);
  assert.deepEqual(c.workerAllowNet, ["api.example.com", "10.0.0.1:8080"]);
  assert.equal(c.workerTimeoutMs, 2000);
  assert.equal(c.workerReload, true);
  assert.equal(c.workerMemoryBytes, 64 * 1024 * 1024);
  assert.equal(describeConfig(c).workerVars, `***(9)`, "vars may hold API keys: not logged");
  const defaults = load({});
  assert.equal(defaults.worker, undefined);
  assert.equal(defaults.workerTimeoutMs, 30_000);
  assert.equal(defaults.workerMemoryBytes, 512 * 1024 * 1024);
  for (
    const [env, message] of [
      [{ ORIGIN: "ftp://x" }, /^Invalid ORIGIN="ftp:\/\/x": expected an http:\/\/ or https:\/\//],
      [{ WORKER: "app.py" }, /^Invalid WORKER="app.py"/],
      [{ WORKER_KV: "KV,my-ns" }, /^Invalid WORKER_KV="KV,my-ns": expected comma-separated/],
      [{ WORKER_VARS: "[1]" }, /^Invalid WORKER_VARS \(3 characters, not shown\): expected a JSON/],
      [{ WORKER_POOL: "1000" }, /^Invalid WORKER_POOL="1000"/],
      [{ WORKER_TIMEOUT: "0" }, /^Invalid WORKER_TIMEOUT="0"/],
      [{ WORKER_CONFIG: "wrangler.yaml" }, /^Invalid WORKER_CONFIG="wrangler.yaml"/],
    ] as const
  ) {
    assert.throws(
      () => load(env),
      (err: Error) => err instanceof ConfigError && message.test(err.message),
    );
  }
});

Deno.test("parseWranglerConfig reads kv_namespaces bindings and vars from TOML, JSON and JSONC", () => {
  const toml =
    `name = "x"\nkv_namespaces = [\n  { binding = "NOTES", id = "abc" },\n  { binding = "RATE", id = "def" },\n]\n[vars]\nGREETING = "hi"\nLIMIT = 10\nFLAGS = { a = true }\n`;
  assert.deepEqual(parseWranglerConfig(toml, "wrangler.toml"), {
    bindings: ["NOTES", "RATE"],
    vars: { GREETING: "hi", LIMIT: "10", FLAGS: '{"a":true}' },
  });
  const jsonc = `{
    // wrangler.jsonc allows comments
    "kv_namespaces": [{ "binding": "NOTES", "id": "abc" },],
    "vars": { "GREETING": "hi" }, /* and trailing commas */
  }`;
  assert.deepEqual(parseWranglerConfig(jsonc, "wrangler.jsonc"), {
    bindings: ["NOTES"],
    vars: { GREETING: "hi" },
  });
  assert.deepEqual(parseWranglerConfig(`{"name":"x"}`, "wrangler.json"), {
    bindings: [],
    vars: {},
  });
  assert.throws(
    () => parseWranglerConfig(`kv_namespaces = [`, "w.toml"),
    /^ConfigError: Invalid WORKER_CONFIG="w.toml"|Invalid WORKER_CONFIG="w.toml"/,
  );
  assert.throws(
    () => parseWranglerConfig(`{"a": }`, "w.jsonc"),
    /Invalid WORKER_CONFIG="w.jsonc": SyntaxError/,
  );
  assert.throws(
    () => parseWranglerConfig(`kv_namespaces = [{ id = "x" }]`, "w.toml"),
    /kv_namespaces\[\]\.binding must be a name/,
  );
});

Deno.test("resolveWorkerSettings: CACHE first, wrangler then env bindings, origin host allowed", async () => {
  const config = load({
    WORKER: "workers/app.ts",
    WORKER_CONFIG: "wrangler.toml",
    WORKER_KV: "SESSIONS,NOTES",
    WORKER_VARS: '{"MODE":"edge","LIMIT":"5"}',
    ORIGIN: "https://origin.example",
    WORKER_ALLOW_NET: "api.example.com",
  });
  const settings = await resolveWorkerSettings(
    config,
    () =>
      Promise.resolve(`kv_namespaces = [{ binding = "NOTES", id = "1" }]\n[vars]\nLIMIT = 10\n`),
  );
  assert.deepEqual(settings.bindings, ["CACHE", "NOTES", "SESSIONS"]);
  assert.deepEqual(settings.vars, { LIMIT: "5", MODE: "edge" }, "WORKER_VARS win over the file");
  assert.deepEqual(settings.allowNet, ["api.example.com", "origin.example:443"]);
  assert.ok(
    settings.moduleUrl.startsWith("file:///") && settings.moduleUrl.endsWith("/workers/app.ts"),
  );
  assert.equal(settings.poolSize, navigator.hardwareConcurrency);
  await assert.rejects(
    () => resolveWorkerSettings(load({ WORKER: "a.ts", WORKER_KV: "X", WORKER_VARS: '{"X":"1"}' })),
    /Invalid WORKER_VARS: X is also a binding/,
  );
  await assert.rejects(
    () =>
      resolveWorkerSettings(
        load({ WORKER: "a.ts", WORKER_CONFIG: "missing.toml" }),
        () => Promise.reject(new Deno.errors.NotFound("no such file")),
      ),
    /Invalid WORKER_CONFIG="missing.toml": NotFound/,
  );
});
