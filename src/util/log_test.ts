import assert from "node:assert/strict";
import { createLogger } from "./log.ts";

function capture(options: Parameters<typeof createLogger>[0]) {
  const lines: string[] = [];
  const log = createLogger({ ...options, write: (l) => lines.push(l), now: () => 0 });
  return { log, lines };
}

Deno.test("createLogger writes one human-readable line per event by default", () => {
  const { log, lines } = capture({});
  log.child({ component: "membership" }).info("member joined", { member: "n1", n: 3 });
  assert.deepEqual(lines, [
    "1970-01-01T00:00:00.000Z INFO  member joined component=membership member=n1 n=3",
  ]);
});

Deno.test("createLogger writes JSON lines with LOG_FORMAT=json, errors as messages", () => {
  const { log, lines } = capture({ format: "json" });
  log.warn("push failed", { peer: "a b", err: new Error("timeout") });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]), {
    time: "1970-01-01T00:00:00.000Z",
    level: "warn",
    msg: "push failed",
    peer: "a b",
    err: "timeout",
  });
});

Deno.test("createLogger respects the level", () => {
  const { log, lines } = capture({ level: "warn" });
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.equal(lines.length, 2);
  assert.equal(log.enabled("info"), false);
  assert.equal(log.enabled("error"), true);
});
