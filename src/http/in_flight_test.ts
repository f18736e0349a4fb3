import assert from "node:assert/strict";
import { InFlightLimit } from "./in_flight.ts";

Deno.test("InFlightLimit answers 503 with Retry-After beyond the cap, but never to health probes", async () => {
  const limit = new InFlightLimit(2);
  const gate = Promise.withResolvers<void>();
  const handler = limit.wrap(async (req) => {
    if (new URL(req.url).pathname === "/slow") await gate.promise;
    return new Response("ok");
  });
  const slow = [handler(new Request("http://n/slow")), handler(new Request("http://n/slow"))];
  assert.equal(limit.stats().inFlight, 2);
  const refused = await handler(new Request("http://n/cache/k"));
  assert.equal(refused.status, 503);
  assert.equal(refused.headers.get("retry-after"), "1");
  assert.match((await refused.json()).error, /Too many requests in flight: limit is 2/);
  for (const path of ["/healthz", "/readyz"]) {
    assert.equal((await handler(new Request(`http://n${path}`))).status, 200, path);
  }
  gate.resolve();
  assert.deepEqual((await Promise.all(slow)).map((r) => r.status), [200, 200]);
  assert.deepEqual(limit.stats(), {
    inFlight: 0,
    maxInFlight: 2,
    rejectedBusy: 1,
    bodyTimeouts: 0,
  });
  assert.equal((await handler(new Request("http://n/cache/k"))).status, 200);
});

Deno.test("InFlightLimit frees the slot of a failed handler and counts 408 answers", async () => {
  const limit = new InFlightLimit(1);
  const handler = limit.wrap((req) => {
    const path = new URL(req.url).pathname;
    if (path === "/throw") throw new Error("sync failure");
    if (path === "/reject") return Promise.reject(new Error("async failure"));
    return new Response(null, { status: path === "/late" ? 408 : 200 });
  });
  assert.throws(() => handler(new Request("http://n/throw")), /sync failure/);
  await assert.rejects(async () => await handler(new Request("http://n/reject")), /async failure/);
  assert.equal((await handler(new Request("http://n/late"))).status, 408);
  assert.deepEqual(limit.stats(), {
    inFlight: 0,
    maxInFlight: 1,
    rejectedBusy: 0,
    bodyTimeouts: 1,
  });
  assert.throws(() => new InFlightLimit(0), /max must be a positive integer: received 0/);
});
