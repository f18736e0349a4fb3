/** `POST /batch`: each op gets the status its single request would; bad batches store nothing. */

import assert from "node:assert/strict";
import { createHandler } from "./handler.ts";
import { MAX_BATCH_OPS } from "./batch.ts";
import { FakeKv } from "./_fake_kv.ts";

function setup() {
  const kv = new FakeKv();
  const handler = createHandler(kv);
  const batch = async (body: unknown, headers: Record<string, string> = {}) => {
    const res = await handler(
      new Request("http://node/batch", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    );
    return { status: res.status, doc: await res.json() };
  };
  return { kv, batch, handler };
}

Deno.test("POST /batch runs gets, puts and deletes in order with each op's own status", async () => {
  const { kv, batch } = setup();
  await kv.set("a", "A");
  await kv.set("bin", new Uint8Array([0, 255]));
  const r = await batch({
    ops: [
      { op: "get", key: "a" },
      { op: "put", key: "b", value: "v", ttl: 60, metadata: { m: 1 }, tags: ["t"] },
      { op: "get", key: "b" },
      { op: "delete", key: "a" },
      { op: "get", key: "a" },
      { op: "get", key: "bin" },
      { op: "put", key: "c", value: "AAE=", encoding: "base64" },
      { op: "put", key: "d", value: "x", expire: 1 },
      { op: "put", key: "members", value: "x" },
      { op: "put", key: "e", value: "x".repeat(1025) },
      { op: "get", key: "x".repeat(65) },
      { op: "incr", key: "a" },
      { op: "get" },
      "nope",
      { op: "get", key: "OK" },
    ],
  });
  assert.equal(r.status, 200);
  const results = r.doc.results;
  assert.deepEqual(results.slice(0, 7), [
    { status: 200, value: "A" },
    { status: 200 },
    { status: 200, value: "v" },
    { status: 200 },
    { status: 404 },
    { status: 200, value: "AP8=", encoding: "base64" },
    { status: 200 },
  ]);
  assert.deepEqual(
    results.slice(7).map((x: { status: number }) => x.status),
    [400, 400, 413, 414, 400, 400, 400, 404],
  );
  assert.match(results[7].error, /"expire"/);
  assert.match(results[8].error, /reserved/);
  assert.deepEqual(kv.get("b")!.metadata, { m: 1 });
  assert.equal(kv.get("b")!.expiresAt, kv.clock + 60_000);
  assert.deepEqual(kv.get("c")!.value, new Uint8Array([0, 1]));
  assert.equal(kv.get("d"), undefined);
  assert.equal(kv.get("members"), undefined);
});

Deno.test("POST /batch passes X-Write-Acks to each write", async () => {
  const { kv, batch } = setup();
  const r = await batch({ ops: [{ op: "put", key: "k", value: "v" }] }, { "x-write-acks": "2" });
  assert.equal(r.doc.results[0].status, 503);
  assert.match(r.doc.results[0].error, /2 replicas/);
  assert.equal(kv.writes, 0);
});

Deno.test("a bad batch is refused whole: nothing stored", async () => {
  const { kv, batch, handler } = setup();
  const put = { op: "put", key: "k", value: "v" };
  const bad: [unknown, number, RegExp][] = [
    ["{", 400, /Malformed/],
    [[put], 400, /JSON object/],
    [{ ops: put }, 400, /"ops"/],
    [{ ops: [put], atomic: true }, 400, /"atomic"/],
    [{ ops: Array.from({ length: MAX_BATCH_OPS + 1 }, () => put) }, 400, /Too many ops/],
  ];
  for (const [body, status, error] of bad) {
    const r = await batch(body);
    assert.equal(r.status, status, JSON.stringify(r.doc));
    assert.match(r.doc.error, error);
  }
  const text = await handler(
    new Request("http://node/batch", { method: "POST", body: JSON.stringify({ ops: [put] }) }),
  );
  assert.equal(text.status, 415);
  await text.body?.cancel();
  const get = await handler(new Request("http://node/batch"));
  assert.equal(get.status, 405);
  await get.body?.cancel();
  assert.equal(kv.writes, 0);
});

Deno.test("a batch answers alike with per-op requests (partitioned) and without (full replication)", async () => {
  // The same ops through both paths: a FakeKv with routing that owns every key alone takes the
  // per-op requests; the plain one the direct path.
  const ops = [
    { op: "put", key: "a", value: "A", ttl: 60, metadata: { m: 1 }, tags: ["t"] },
    { op: "put", key: "bin", value: "AP8=", encoding: "base64" },
    { op: "get", key: "a" },
    { op: "get", key: "bin" },
    { op: "get", key: "missing" },
    { op: "put", key: "d", value: "x", expire: 1 },
    { op: "put", key: "members", value: "x" },
    { op: "put", key: "e", value: "x".repeat(1025) },
    { op: "put", key: "f", value: 5 },
    { op: "put", key: "g", value: "x", ttl: -1 },
    { op: "put", key: "h", value: "x", ttl: 1, duration: "5" },
    { op: "put", key: "i", value: "x", metadata: "m" },
    { op: "put", key: "j", value: "x", tags: ["a,b"] },
    { op: "put", key: "k", value: "!!", encoding: "base64" },
    { op: "put", key: "x".repeat(65), value: "x" },
    { op: "delete", key: "a" },
    { op: "get", key: "a" },
  ];
  const answers = [];
  for (const partitioned of [false, true]) {
    const kv = new FakeKv();
    if (partitioned) {
      Object.defineProperty(kv, "routing", {
        value: {
          self: "fake",
          timeoutMs: 1000,
          stats: {},
          ownersOf: () => ({ self: true, peers: [], former: [] }),
        },
      });
    }
    const variants: Record<string, string>[] = [{}, { "x-write-acks": "nope" }, {
      "x-is-sync": "true",
    }];
    for (const headers of variants) {
      const res = await createHandler(kv)(
        new Request("http://node/batch", {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify({ ops }),
        }),
      );
      answers.push({ partitioned, headers, status: res.status, doc: await res.json() });
    }
    answers.push({ partitioned, stored: [...kv.entries].map(([k, e]) => [k, e.value, e.tags]) });
  }
  const half = answers.length / 2;
  for (let i = 0; i < half; i++) {
    const { partitioned: _, ...direct } = answers[i];
    const { partitioned: __, ...requested } = answers[i + half];
    assert.deepEqual(direct, requested);
  }
  assert.equal(answers[0].doc.results[2].value, "A");
  assert.equal(answers[1].doc.results[0].status, 400); // a bad X-Write-Acks fails each write
});
