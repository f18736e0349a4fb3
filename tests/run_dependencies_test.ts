/**
 * What `deno task run` downloads: on a cold cache (a fresh `DENO_DIR`), exactly the npm packages
 * the server's module graph imports (`deno info main.ts`), no test-only package; and once those
 * are cached, `deno task run` starts with the network cut off (every request sent to a dead
 * proxy). Deno initialises every npm package of `deno.lock` at start-up, so this also proves that
 * the lockfile holds no package the server does not import.
 */

import assert from "node:assert/strict";
import { repositoryRoot } from "../testing/mod.ts";

const decoder = new TextDecoder();

async function deno(args: string[], env: Record<string, string>) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: repositoryRoot,
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", ...env },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/** `name@version` of every npm package in the cache folder `dir` (scoped names included). */
function cachedPackages(dir: string): string[] {
  const found: string[] = [];
  const walk = (path: string, prefix: string) => {
    for (const entry of Deno.readDirSync(path)) {
      if (!entry.isDirectory) continue;
      if (entry.name.startsWith("@") && prefix === "") walk(`${path}/${entry.name}`, entry.name);
      else {
        const name = prefix ? `${prefix}/${entry.name}` : entry.name;
        for (const v of Deno.readDirSync(`${path}/${entry.name}`)) {
          if (v.isDirectory) found.push(`${name}@${v.name}`);
        }
      }
    }
  };
  walk(dir, "");
  return found.sort();
}

Deno.test({
  name: "deno task run fetches only the server's packages on a cold cache, then runs offline",
  // Not a hermetic test: the cold cache needs the npm registry (reachable in CI).
  async fn() {
    const info = await deno(["info", "--json", "main.ts"], {});
    assert.equal(info.code, 0, info.stderr);
    const serverPackages = Object.keys(JSON.parse(info.stdout).npmPackages).sort();
    assert.ok(serverPackages.some((p) => p.startsWith("hono@")), serverPackages.join(" "));

    const denoDir = await Deno.makeTempDir({ prefix: "cachenode-deno-dir-" });
    try {
      const cold = await deno(["task", "run", "--help"], { DENO_DIR: denoDir });
      assert.equal(cold.code, 0, cold.stderr);
      assert.match(cold.stdout, /--http-port/);
      const fetched = cachedPackages(`${denoDir}/npm/registry.npmjs.org`);
      assert.deepEqual(fetched, serverPackages, "downloaded exactly what main.ts imports");

      const dead = "http://127.0.0.1:9";
      const offline = await deno(["task", "run", "--help"], {
        DENO_DIR: denoDir,
        HTTPS_PROXY: dead,
        HTTP_PROXY: dead,
        NO_PROXY: "",
      });
      assert.equal(offline.code, 0, offline.stderr);
      assert.match(offline.stdout, /--http-port/);
    } finally {
      await Deno.remove(denoDir, { recursive: true });
    }
  },
});
