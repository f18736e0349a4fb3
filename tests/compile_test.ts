/**
 * The packaging step, offline: `deno task compile <host target>` builds
 * `dist/cachenode-<target>` with `DENORT_BIN` pointed at the Deno CLI running this test (Deno's
 * runtime download is unreachable in CI), and the file carries the program. Such an executable
 * starts as the Deno CLI, not as cachenode, so it is not run. Where the user gives a real runtime
 * (`DENORT_BIN=/path/to/denort deno task test`), the executable is also started with env vars and
 * answers `--version`, `/healthz` and a PUT/GET; otherwise that test is reported as ignored, with
 * the reason in its name, never as passed.
 *
 * Also: a failing `deno compile` is reported with what it said, and its partial output removed.
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { compileTarget, outputName } from "../scripts/compile.ts";
import { freePort, waitFor } from "../testing/mod.ts";
import denoJson from "../deno.json" with { type: "json" };

const HOST_TARGETS: Record<string, string> = {
  "x86_64-linux": "x86_64-unknown-linux-gnu",
  "aarch64-linux": "aarch64-unknown-linux-gnu",
  "x86_64-darwin": "x86_64-apple-darwin",
  "aarch64-darwin": "aarch64-apple-darwin",
  "x86_64-windows": "x86_64-pc-windows-msvc",
};

const root = new URL("../", import.meta.url).pathname;
const target = HOST_TARGETS[`${Deno.build.arch}-${Deno.build.os}`];
const given = Deno.env.get("DENORT_BIN");
const realRuntime = given !== undefined && Deno.realPathSync(given) !==
    Deno.realPathSync(Deno.execPath());
const runtime = given ?? Deno.execPath();
const binary = `${root}dist/${outputName(target)}`;

/** Runs `deno task compile <target>` as a user would, with `DENORT_BIN` set. */
async function compileTask(): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "compile", target],
    cwd: root,
    env: { DENORT_BIN: runtime, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const said = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.ok(out.success, said);
  assert.match(said, new RegExp(`built .*dist/${outputName(target)}`));
}

Deno.test("deno task compile builds dist/cachenode-<host target> offline, carrying the program", async () => {
  // An executable the user built before is set aside so the test sees a fresh one, then put back.
  const kept = await Deno.stat(binary).then(() => `${binary}.kept-by-test`, () => undefined);
  if (kept) await Deno.rename(binary, kept);
  try {
    await compileTask();
    const size = (await Deno.stat(binary)).size;
    assert.ok(size > (await Deno.stat(runtime)).size, "the runtime plus the program");
    const bytes = Buffer.from(await Deno.readFile(binary));
    // Strings of main.ts, of a src/ module and of deno.json (none is in Deno itself).
    const markers = [
      "The command-line entry point, and the only module with side effects",
      "cache_build_info",
      `"version": "${denoJson.version}"`,
    ];
    for (const marker of markers) {
      assert.ok(bytes.indexOf(marker) >= 0, `the executable carries ${JSON.stringify(marker)}`);
    }
    assert.ok(bytes.indexOf("node_modules/playwright-core") < 0, "no test-only package");
  } finally {
    if (kept) await Deno.rename(kept, binary);
  }
});

Deno.test({
  name: realRuntime
    ? "the compiled executable serves the API with baked-in permissions"
    : "the compiled executable serves the API (ignored: set DENORT_BIN to a real denort to run it)",
  ignore: !realRuntime,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cachenode-compile-" });
    const binary = await compileTarget(target, dir);
    const version = await new Deno.Command(binary, { args: ["--version"] }).output();
    assert.ok(version.success);
    assert.match(new TextDecoder().decode(version.stdout), /^cachenode \d+\.\d+\.\d+ \(deno /);
    const httpPort = freePort();
    const child = new Deno.Command(binary, {
      env: { HTTP_PORT: String(httpPort), PORT: String(freePort()), NODE_NAME: "compiled" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const health = await waitFor("compiled node", async () => {
        const r = await fetch(`http://127.0.0.1:${httpPort}/healthz`).catch(() => undefined);
        return r?.ok ? await r.json() : (await r?.body?.cancel(), undefined);
      });
      assert.deepEqual(health, { status: "ok", version: denoJson.version });
      const put = await fetch(`http://127.0.0.1:${httpPort}/cache/a`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: '{"value":"b"}',
      });
      assert.equal(await put.text(), "OK");
      const get = await fetch(`http://127.0.0.1:${httpPort}/cache/a`);
      assert.equal(await get.text(), "b");
    } finally {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a failing deno compile is reported with what it said, and its partial output removed",
  ignore: Deno.build.os === "windows",
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cachenode-compile-" });
    try {
      // A stand-in for deno that fails as the bintrees crash did: a 0-byte temporary output,
      // the overflow message, death by SIGABRT.
      const fake = `${dir}/deno`;
      await Deno.writeTextFile(
        fake,
        `#!/bin/sh
while [ "$1" != "--output" ]; do shift; done
: > "$2.tmp-0123456789abcdef"
echo "thread 'tokio-runtime-worker' has overflowed its stack" >&2
echo "fatal runtime error: stack overflow, aborting" >&2
kill -ABRT $$
`,
        { mode: 0o755 },
      );
      const outDir = `${dir}/dist`;
      await Deno.mkdir(outDir);
      const err = await compileTarget(target, outDir, { deno: fake }).then(
        () => assert.fail("compiled"),
        (e: Error) => e,
      );
      assert.match(err.message, /^Cannot compile for .* \(deno compile: killed by SIGABRT\):$/m);
      assert.match(err.message, /^thread 'tokio-runtime-worker' has overflowed its stack$/m);
      assert.match(err.message, /^fatal runtime error: stack overflow, aborting$/m);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(outDir)), []);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
