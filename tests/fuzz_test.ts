/**
 * A short run of `deno task fuzz` (the task's own command and permissions), as CI runs it: every
 * target gets inputs, none crashes, hangs or changes state, the encrypted cluster counts what it
 * dropped, and the HTTP port answers each hand-written hostile request with the expected 4xx.
 */

import assert from "node:assert/strict";
import type { FuzzReport } from "../scripts/fuzz/main.ts";

const root = new URL("../", import.meta.url);

async function fuzzTask(args: string[]): Promise<{ code: number; report: FuzzReport }> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const words = (denoJson.tasks.fuzz as string).split(/\s+/).filter((w) => w !== "");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...words.slice(1), ...args],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(text.trim() !== "", new TextDecoder().decode(out.stderr));
  return { code: out.code, report: JSON.parse(text) };
}

Deno.test("fuzz: 8 s of hostile input, zero crashes, hangs or state changes", async () => {
  const { code, report } = await fuzzTask(["--seconds", "8", "--seed", "7", "--json"]);
  const failures = report.targets.flatMap((t) =>
    [...t.crashes, ...t.hangs].map((f) => `${t.target}: ${f.error}`)
  );
  assert.deepEqual(failures, []);
  assert.equal(code, 0);
  const byName = new Map(report.targets.map((t) => [t.target, t]));
  for (
    const name of ["decodePacket", "StreamReader", "live UDP (encrypted)", "live UDP (plaintext)"]
  ) {
    assert.ok(byName.get(name)!.tried >= 500, `${name}: ${byName.get(name)!.tried} inputs`);
  }
  for (const name of ["live TCP (encrypted)", "live TCP (plaintext)", "live HTTP"]) {
    assert.ok(byName.get(name)!.tried >= 50, `${name}: ${byName.get(name)!.tried} inputs`);
  }
  // The encrypted target dropped what it was sent and counted why.
  const notes = byName.get("live UDP (encrypted)")!.notes as {
    membersAdded: number;
    membershipBefore: { packetsDropped: number };
    membershipAfter: {
      packetsDropped: number;
      dropped: Record<string, number>;
      streamErrors: Record<string, number>;
    };
  };
  assert.equal(notes.membersAdded, 0);
  const dropped = notes.membershipAfter.packetsDropped - notes.membershipBefore.packetsDropped;
  assert.ok(dropped >= byName.get("live UDP (encrypted)")!.tried / 2, `${dropped} dropped`);
  assert.ok(notes.membershipAfter.dropped.decrypt > 0);
  assert.ok(Object.values(notes.membershipAfter.streamErrors).reduce((a, b) => a + b, 0) > 0);
  // Hand-written HTTP requests got the statuses the API promises.
  const hand =
    (byName.get("live HTTP")!.notes as { handWritten: Record<string, string> }).handWritten;
  const expected: Record<string, string> = {
    "garbage line": "400",
    "huge header": "400",
    "truncated JSON": "400",
    "deep nesting": "400",
    "invalid UTF-8 JSON": "400",
    "unknown type": "415",
    "over the value limit": "413",
    "key too long": "414",
    "bad percent key": "400",
    "PATCH": "405",
    "internal garbage": "400",
    "stream bad upgrade": "426",
    "stream bad key": "426",
    "dot segments": "401",
    "unparsable Host": "401",
    "unparsable Host PUT": "400",
  };
  for (const [name, status] of Object.entries(expected)) assert.equal(hand[name], status, name);
  assert.equal(report.versionFlip.v1to0.decoded, 0);
  console.log(
    `fuzz figures: ${report.tried} inputs (${
      report.targets.map((t) => `${t.target} ${t.tried}`).join(", ")
    }); version flips decoded v1→v0 ${report.versionFlip.v1to0.decoded}/${report.versionFlip.v1to0.tried}, v0→v1 ${report.versionFlip.v0to1.decoded}/${report.versionFlip.v0to1.tried}`,
  );
});
