/**
 * `deno task run --version` (and `-v`), the README's own command as a real process: prints
 * `cachenode <deno.json version> (deno <runtime version>)` and exits 0 without starting a node.
 */

import assert from "node:assert/strict";
import { repositoryRoot } from "../testing/mod.ts";
import denoJson from "../deno.json" with { type: "json" };

for (const flag of ["--version", "-v"]) {
  Deno.test(`deno task run ${flag} prints the version and exits 0`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "run", flag],
      cwd: repositoryRoot,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.equal(stdout, `cachenode ${denoJson.version} (deno ${Deno.version.deno})\n`);
  });
}
