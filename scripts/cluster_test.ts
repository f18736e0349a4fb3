import assert from "node:assert/strict";
import { parseArgs } from "./cluster.ts";

Deno.test("parseArgs reads counts, ports and env assignments, and names bad ones", () => {
  assert.deepEqual(parseArgs(["--nodes", "5", "--http-base=9000", "--", "LOG_LEVEL=warn"]), {
    nodes: 5,
    httpBase: 9000,
    gossipBase: 7946,
    env: { LOG_LEVEL: "warn" },
  });
  assert.throws(() => parseArgs(["--nodes", "x"]), /"--nodes"|--nodes/);
  assert.throws(() => parseArgs(["--", "NOEQUALS"]), /NOEQUALS/);
  assert.throws(() => parseArgs(["--nodes", "0"]), /1\.\.50/);
  assert.throws(() => parseArgs(["--nodes", "2.5"]), /whole number/);
  assert.throws(() => parseArgs(["LOG_LEVEL=warn"]), /after --/);
});
