import assert from "node:assert/strict";
import { parseCommandLine, parseFlags, usageText } from "./cli_flags.ts";

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

Deno.test("parseCommandLine keeps positionals when allowed, and sees --help", () => {
  const defaults = { quick: false, seed: 1 };
  assert.deepEqual(
    parseCommandLine(["--quick", "http", "--seed=2", "memory"], defaults, {
      positionals: true,
    }),
    { flags: { quick: true, seed: 2 }, positionals: ["http", "memory"], help: false },
  );
  assert.equal(parseCommandLine(["-h"], defaults).help, true);
  assert.throws(() => parseCommandLine(["http"], defaults), /Unexpected argument 'http'/);
});

Deno.test("usageText lists every flag with its default", () => {
  assert.equal(
    usageText({ command: "deno task x", rest: "[name...]" }, { seconds: 60, out: "", json: false }),
    [
      "Usage: deno task x [flags] [name...]",
      "  --seconds N  default 60",
      '  --out TEXT   default ""',
      "  --json",
      "  --help, -h   print this and exit",
    ].join("\n"),
  );
});
