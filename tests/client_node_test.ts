/**
 * The client file runs outside Deno: `client.ts` is bundled with `deno bundle` (esbuild, fetched
 * from npm on its first use and cached) into a temporary directory, and Node 20+ imports the
 * bundle, watches, sets, gets and increments keys on a real node started with the README's
 * command. Without `node` on the PATH the test is reported as ignored, with the reason. The bundle
 * must not mention `Deno`: the client uses nothing but web APIs.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { NodeProcess, repositoryRoot } from "../testing/mod.ts";

const nodeVersion = await new Deno.Command("node", { args: ["--version"], stdout: "piped" })
  .output().then((o) => o.success ? new TextDecoder().decode(o.stdout).trim() : undefined)
  .catch(() => undefined);

/** Runs `cmd` with `args`; its stdout, or throws with its output. */
async function run(cmd: string, args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${text(out.stderr)}${text(out.stdout)}`);
  }
  return text(out.stdout);
}

Deno.test({
  name: nodeVersion
    ? `the bundled client watches, sets and gets a key under Node (${nodeVersion})`
    : "the bundled client watches, sets and gets a key under Node (ignored: no `node` on the PATH)",
  ignore: nodeVersion === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cachenode-client-" });
    await using node = await NodeProcess.start({ LOG_LEVEL: "warn" });
    try {
      const bundle = join(dir, "client.mjs");
      const root = new URL(".", repositoryRoot).pathname;
      await run(Deno.execPath(), [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        join(root, "client.ts"),
        "-o",
        bundle,
      ]);
      const code = await Deno.readTextFile(bundle);
      assert.doesNotMatch(code, /\bDeno\./, "the bundle uses a Deno API");
      await Deno.writeTextFile(
        join(dir, "main.mjs"),
        `import { CacheClient } from "./client.mjs";
const cache = new CacheClient({ nodes: [process.argv[2]], timeoutMs: 5000 });
const controller = new AbortController();
const events = [];
const watching = (async () => {
  for await (const e of cache.watch({ prefix: "from-", signal: controller.signal })) {
    events.push(e.kind + " " + e.key);
    controller.abort();
  }
})().catch(() => {});
// Written until the watch (opened meanwhile) reports it.
for (let i = 0; i < 100 && events.length === 0; i++) {
  await cache.set("from-node", "hello from " + process.version, { ttlMs: 60000 });
  await new Promise((r) => setTimeout(r, 50));
}
await watching;
const value = await cache.get("from-node");
const count = await cache.incr("node-hits", { by: 2 });
const miss = await cache.get("missing");
await cache.close();
console.log(JSON.stringify({ value, count, miss: miss === undefined, event: events[0] }));
`,
      );
      const out = await run("node", [join(dir, "main.mjs"), node.url("")], dir);
      assert.deepEqual(JSON.parse(out), {
        value: `hello from ${nodeVersion}`,
        count: 2,
        miss: true,
        event: "put from-node",
      });
      // The node holds what Node wrote.
      assert.equal(
        await (await fetch(node.url("/cache/from-node"))).text(),
        `hello from ${nodeVersion}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the README client example type-checks against client.ts, imported from another directory", async () => {
  const readme = await Deno.readTextFile(new URL("README.md", repositoryRoot));
  const example = readme.slice(readme.indexOf("\n## Client")).match(/```ts\n([\s\S]*?)```/)?.[1];
  assert.ok(example, "README.md has no ts example under ## Client");
  assert.match(example, /from "\.\/client\.ts"/);
  const dir = await Deno.makeTempDir({ prefix: "cachenode-client-readme-" });
  try {
    const program = example.replace(
      '"./client.ts"',
      JSON.stringify(new URL("client.ts", repositoryRoot).href),
    );
    await Deno.writeTextFile(join(dir, "app.ts"), program);
    await run(Deno.execPath(), ["check", "--quiet", "app.ts"], dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
