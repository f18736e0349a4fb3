import assert from "node:assert/strict";
import { headerOf, probes } from "./header_probe.ts";

Deno.test("headerOf answers as req.headers.get under Deno.serve, and finds the server's lookup", async () => {
  const seen: unknown[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const names = ["if-none-match", "x-cache-meta", "x-repeated", "x-absent", "host"];
    seen.push([probes(req), names.map((n) => headerOf(req, n))]);
    // Asked after the probe, the Headers object agrees.
    seen.push([probes(req), names.map((n) => req.headers.get(n))]);
    return new Response("ok");
  });
  try {
    const url = `http://127.0.0.1:${server.addr.port}/cache/k`;
    const headers = new Headers([
      ["If-None-Match", '"a"'],
      ["X-Repeated", "1"],
      ["X-Repeated", "2"],
      ["X-Cache-Meta", ""],
    ]);
    for (const init of [{ headers }, {}]) await (await fetch(url, init)).text();
  } finally {
    await server.shutdown();
  }
  const host = (seen[0] as [boolean, (string | null)[]])[1][4];
  assert.deepEqual(seen, [
    [true, ['"a"', "", "1, 2", null, host]],
    [true, ['"a"', "", "1, 2", null, host]],
    [true, [null, null, null, null, host]],
    [true, [null, null, null, null, host]],
  ]);
});

Deno.test("headerOf reads a constructed request's headers", () => {
  const req = new Request("http://x/", { headers: { "if-none-match": "*" } });
  assert.equal(probes(req), false);
  assert.equal(headerOf(req, "if-none-match"), "*");
  assert.equal(headerOf(req, "x-cache-meta"), null);
});
