/**
 * The library from another project: the README's embedding example, taken from README.md as it
 * is, runs in a fresh temporary directory with no deno.json (so no import map), importing
 * `mod.ts` by absolute file URL, with no permission at all (`start({ http: false, cluster:
 * false })` must open no socket; `--no-prompt` turns any attempt into an error).
 */

import assert from "node:assert/strict";
import { repositoryRoot } from "../testing/mod.ts";

/** The first ```ts block under the README heading `## Embedding`. */
async function embeddingExample(): Promise<string> {
  const readme = await Deno.readTextFile(new URL("README.md", repositoryRoot));
  const section = readme.slice(readme.indexOf("\n## Embedding"));
  const match = section.match(/```ts\n([\s\S]*?)```/);
  if (!match) throw new Error("README.md has no ts example under ## Embedding");
  return match[1];
}

Deno.test("the README embedding example runs from a directory with no config, without permissions", async () => {
  const example = await embeddingExample();
  assert.match(example, /from "\.\/mod\.ts"/);
  assert.match(example, /start\(\{ http: false, cluster: false \}\)/);
  const dir = await Deno.makeTempDir({ prefix: "cachenode-library-" });
  try {
    const program = example.replace(
      '"./mod.ts"',
      JSON.stringify(new URL("mod.ts", repositoryRoot).href),
    );
    await Deno.writeTextFile(`${dir}/app.ts`, program);
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "app.ts"],
      cwd: dir,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    assert.equal(new TextDecoder().decode(stdout), "hello\n");
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["app.ts"], "no file written");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
