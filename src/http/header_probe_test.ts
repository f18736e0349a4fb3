import assert from "node:assert/strict";
import { headerOf, probes } from "./header_probe.ts";

const NAMES = [
  "if-none-match",
  "x-cache-meta",
  "X-Repeated",
  "x-repeated",
  "content-type",
  "x-latin",
  "x-space",
  "x-absent",
];

Deno.test("headerOf answers as req.headers.get under Deno.serve, by the server's own lookup", async () => {
  const seen: { probed: boolean; ours: (string | null)[]; theirs: (string | null)[] }[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const ours = NAMES.map((n) => headerOf(req, n));
    const probed = probes(req);
    seen.push({ probed, ours, theirs: NAMES.map((n) => req.headers.get(n)) });
    return new Response("ok");
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/cache/k`;
    const headers = [
      ["If-None-Match", '"a"'],
      ["X-Repeated", "1"],
      ["x-repeated", "2"],
      ["X-Repeated", ""],
      ["X-Cache-Meta", ""],
      ["Content-Type", "application/json; charset=utf-8"],
      ["Content-Type", "text/plain"],
      ["X-Latin", "caf\u00e9"],
      ["X-Space", "  v  "],
    ];
    for (const init of [{ headers }, {}]) await (await fetch(url, init)).text();
  } finally {
    await server.shutdown();
  }
  assert.equal(seen.length, 2);
  for (const { probed, ours, theirs } of seen) {
    assert.equal(probed, true, "the server's lookup is found");
    assert.deepEqual(ours, theirs);
  }
  assert.deepEqual(seen[0].ours.slice(0, 6), [
    '"a"',
    "",
    "1, 2, ",
    "1, 2, ",
    "application/json; charset=utf-8, text/plain",
    "café",
  ]);
});

Deno.test("headerOf reads a constructed request's headers", () => {
  const req = new Request("http://x/", { headers: { "if-none-match": "*" } });
  assert.equal(probes(req), false);
  assert.equal(headerOf(req, "if-none-match"), "*");
  assert.equal(headerOf(req, "x-cache-meta"), null);
});
