import assert from "node:assert/strict";
import { parseFlags } from "./cli_flags.ts";

Deno.test("parseFlags sets fields from kebab-case flags, keeping their types", () => {
  const defaults = { seconds: 60, convergeSeconds: 5, json: false, netns: "" };
  assert.deepEqual(parseFlags([], defaults), defaults);
  assert.deepEqual(
    parseFlags(["--seconds", "10", "--converge-seconds=2.5", "--json", "--netns", "x"], defaults),
    { seconds: 10, convergeSeconds: 2.5, json: true, netns: "x" },
  );
});

Deno.test("parseFlags refuses unknown flags, bad numbers and missing values", () => {
  const defaults = { seconds: 60, json: false };
  for (const args of [["--minutes", "1"], ["--seconds", "-1"], ["--seconds", "x"], ["--seconds"]]) {
    assert.throws(
      () => parseFlags(args, defaults),
      (e) => e instanceof TypeError && /expected --seconds N, --json/.test(e.message),
      args.join(" "),
    );
  }
  assert.throws(() => parseFlags(["--json=1"], defaults), TypeError);
});
