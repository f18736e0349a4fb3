/**
 * In-process tests of issue 17's API edge (README "HTTP API"): conditional requests, counters,
 * listing, metadata and tags, purge, flush and strict input, through `createHandler` of a
 * {@link FakeKv} (the contract's semantics in memory). Every bad input gets its documented status
 * and stores nothing.
 */

import assert from "node:assert/strict";
import { etagOf } from "../service/mod.ts";
import { createHandler } from "./handler.ts";
import { FakeKv } from "./_fake_kv.ts";

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
}

function setup() {
  const kv = new FakeKv();
  const handler = createHandler(kv);
  const call = async (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: unknown,
  ): Promise<Answer> => {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      if (typeof body !== "string") {
        (init.headers as Record<string, string>)["content-type"] ??= "application/json";
      }
    }
    const res = await handler(new Request(`http://node${path}`, init));
    return { status: res.status, headers: Object.fromEntries(res.headers), text: await res.text() };
  };
  return { kv, call };
}

/** Asserts a JSON error with `status` whose message matches `error`, and that nothing was written. */
function refused(r: Answer, status: number, error: RegExp, kv: FakeKv, writes = 0) {
  assert.equal(r.status, status, r.text);
  assert.match(JSON.parse(r.text).error, error);
  assert.equal(kv.writes, writes, "nothing stored");
}

Deno.test("GET/HEAD with If-None-Match: 304 with the ETag when it names the current version", async () => {
  const { kv, call } = setup();
  await kv.set("k", "v");
  const tag = etagOf(kv.get("k")!.version);
  for (const method of ["GET", "HEAD"]) {
    for (const header of [tag, `W/${tag}`, `"x", ${tag}`, "*"]) {
      const r = await call(method, "/cache/k", { "if-none-match": header });
      assert.equal(r.status, 304, `${method} ${header}`);
      assert.deepEqual(r.headers, { etag: tag });
      assert.equal(r.text, "");
    }
    const changed = await call(method, "/cache/k", { "if-none-match": `"0-other"` });
    assert.equal(changed.status, 200);
  }
  assert.equal((await call("GET", "/cache/nope", { "if-none-match": "*" })).status, 404);
});

Deno.test("PUT/DELETE with If-Match: applied on the named version, 412 otherwise", async () => {
  const { kv, call } = setup();
  await kv.set("k", "v1");
  const tag = etagOf(kv.get("k")!.version);
  const put = (h: Record<string, string>) => call("PUT", "/cache/k", h, { value: "v2" });
  refused(await put({ "if-match": `"1-other"` }), 412, /version/, kv, 1);
  refused(await put({ "if-match": `"nope"` }), 412, /version/, kv, 1);
  refused(await put({ "if-match": `${tag}, ${tag}` }), 400, /one entity tag/, kv, 1);
  refused(await put({ "if-match": tag, "if-none-match": "*" }), 400, /not both/, kv, 1);
  refused(await put({ "if-none-match": tag }), 400, /only \*/, kv, 1);
  assert.equal((await put({ "if-match": tag })).status, 200);
  assert.equal(kv.get("k")!.value, "v2");
  refused(await put({ "if-match": tag }), 412, /version/, kv, 2); // stale now
  const current = etagOf(kv.get("k")!.version);
  refused(await call("DELETE", "/cache/k", { "if-match": tag }), 412, /version/, kv, 2);
  assert.equal((await call("DELETE", "/cache/k", { "if-match": current })).status, 200);
  assert.equal(kv.get("k"), undefined);
  refused(await call("DELETE", "/cache/k", { "if-match": "*" }), 412, /missing/, kv, 3);
});

Deno.test("PUT with If-None-Match: * creates only; If-Match: * updates only", async () => {
  const { kv, call } = setup();
  const create = () => call("PUT", "/cache/n", { "if-none-match": "*" }, { value: "a" });
  assert.equal((await create()).status, 200);
  refused(await create(), 412, /exists/, kv, 1);
  assert.equal((await call("PUT", "/cache/n", { "if-match": "*" }, { value: "b" })).status, 200);
  refused(
    await call("PUT", "/cache/m", { "if-match": "*" }, { value: "b" }),
    412,
    /missing/,
    kv,
    2,
  );
  // Raw bodies take the same conditions (through the fast path).
  const raw = await call(
    "PUT",
    "/cache/n",
    { "content-type": "text/plain", "if-none-match": "*" },
    "c",
  );
  refused(raw, 412, /exists/, kv, 2);
});

Deno.test("POST /cache/{key}/incr: by, ttl on creation, 409 for a non-counter, strict body", async () => {
  const { kv, call } = setup();
  const incr = (body?: unknown, headers: Record<string, string> = {}) =>
    call("POST", "/cache/c/incr", headers, body);
  assert.deepEqual(JSON.parse((await incr()).text), { value: 1 });
  assert.deepEqual(JSON.parse((await incr({ by: 41 })).text), { value: 42 });
  assert.deepEqual(JSON.parse((await incr({ by: -2 })).text), { value: 40 });
  assert.equal((await call("GET", "/cache/c")).text, "40");
  const ttl = await call("POST", "/cache/t/incr", {}, { ttl: 10 });
  assert.equal(ttl.status, 200);
  assert.equal(kv.get("t")!.expiresAt, kv.clock + 10_000);
  const writes = kv.writes;
  refused(await incr({ by: 1.5 }), 400, /"by"/, kv, writes);
  refused(await incr({ by: "1" }), 400, /"by"/, kv, writes);
  refused(await incr({ by: 1, step: 2 }), 400, /"step"/, kv, writes);
  refused(await incr({ ttl: -1 }), 400, /ttl/, kv, writes);
  refused(await incr("{", { "content-type": "application/json" }), 400, /Malformed/, kv, writes);
  refused(await incr("1", { "content-type": "text/plain" }), 415, /application\/json/, kv, writes);
  refused(await incr({}, { "x-write-acks": "3" }), 503, /3 replicas/, kv, writes);
  refused(await call("POST", "/cache/members/incr"), 400, /reserved/, kv, writes);
  await kv.set("s", "text");
  refused(await call("POST", "/cache/s/incr"), 409, /not a counter/, kv, writes + 1);
  const wrong = await call("GET", "/cache/c/incr");
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.allow, "POST");
});

Deno.test("GET /cache lists keys by prefix with a cursor; bad limits are 400", async () => {
  const { kv, call } = setup();
  for (const k of ["a1", "a2", "a3", "b1"]) await kv.set(k, "v");
  await kv.set("a2", "v", { ttlMs: 5000, metadata: { n: 2 } });
  const first = JSON.parse((await call("GET", "/cache?prefix=a&limit=2")).text);
  assert.deepEqual(first, {
    keys: [{ name: "a1" }, { name: "a2", expiration_ms: kv.clock + 5000, metadata: { n: 2 } }],
    list_complete: false,
    cursor: "a2",
  });
  const next = JSON.parse(
    (await call("GET", `/cache?prefix=a&limit=2&cursor=${first.cursor}`)).text,
  );
  assert.deepEqual(next, { keys: [{ name: "a3" }], list_complete: true });
  const all = JSON.parse((await call("GET", "/cache")).text);
  assert.equal(all.keys.length, 4);
  for (const limit of ["0", "1001", "abc", "1.5", "-1", ""]) {
    refused(await call("GET", `/cache?limit=${limit}`), 400, /limit/, kv, 5);
  }
  refused(await call("GET", "/cache?prefx=a"), 400, /prefx/, kv, 5);
});

Deno.test("metadata and tags: stored from JSON or headers, shown on HEAD and X-Cache-Meta", async () => {
  const { kv, call } = setup();
  const put = await call("PUT", "/cache/m", {}, {
    value: "v",
    metadata: { owner: "é", n: 1 },
    tags: ["t1", "t2"],
  });
  assert.equal(put.status, 200);
  assert.deepEqual(kv.get("m")!.metadata, { owner: "é", n: 1 });
  assert.deepEqual(kv.get("m")!.tags, ["t1", "t2"]);
  const head = await call("HEAD", "/cache/m");
  assert.deepEqual(JSON.parse(head.headers["x-cache-metadata"]), { owner: "é", n: 1 });
  assert.equal(head.headers["cache-tag"], "t1,t2");
  const meta = await call("GET", "/cache/m", { "x-cache-meta": "true" });
  assert.equal(meta.headers["x-cache-metadata"], head.headers["x-cache-metadata"]);
  assert.equal((await call("GET", "/cache/m")).headers["x-cache-metadata"], undefined);
  const raw = await call("PUT", "/cache/r", {
    "content-type": "text/plain",
    "cache-tag": " a , b",
    "x-cache-metadata": `{"k":true}`,
  }, "raw");
  assert.equal(raw.status, 200);
  assert.deepEqual(kv.get("r")!.tags, ["a", "b"]);
  assert.deepEqual(kv.get("r")!.metadata, { k: true });
});

Deno.test("bad metadata and tags: 400 or 413, nothing stored", async () => {
  const { kv, call } = setup();
  const bad: [unknown, Record<string, string>, number, RegExp][] = [
    [{ value: "v", metadata: [1] }, {}, 400, /metadata/],
    [{ value: "v", metadata: "x" }, {}, 400, /metadata/],
    [{ value: "v", metadata: { big: "x".repeat(1024) } }, {}, 413, /Metadata too large/],
    [{ value: "v", tags: "t" }, {}, 400, /tags/],
    [{ value: "v", tags: [""] }, {}, 400, /tag/],
    [{ value: "v", tags: ["a,b"] }, {}, 400, /commas/],
    [{ value: "v", tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, {}, 400, /Too many/],
    [{ value: "v", tags: ["a"] }, { "cache-tag": "b" }, 400, /once/],
    [{ value: "v", metadata: {} }, { "x-cache-metadata": "{}" }, 400, /once/],
    [{ value: "v" }, { "x-cache-metadata": "{" }, 400, /X-Cache-Metadata/],
  ];
  for (const [body, headers, status, error] of bad) {
    refused(await call("PUT", "/cache/k", headers, body), status, error, kv);
  }
});

Deno.test("strict PUT: unknown fields, one TTL, ttl query on every type, reserved keys", async () => {
  const { kv, call } = setup();
  refused(await call("PUT", "/cache/k", {}, { value: "x", expire: 10 }), 400, /"expire"/, kv);
  refused(await call("PUT", "/cache/k?ttl=5", {}, { value: "x", ttl: 1 }), 400, /once/, kv);
  refused(
    await call("PUT", "/cache/k?ttl=5", {}, { value: "x", duration: "1" }),
    400,
    /once/,
    kv,
  );
  for (const type of ["application/json", "text/plain", "application/octet-stream"]) {
    const body = type === "application/json" ? `{"value":"x"}` : "x";
    refused(await call("PUT", "/cache/k?ttl=abc", { "content-type": type }, body), 400, /ttl/, kv);
  }
  refused(await call("PUT", "/cache/members", {}, { value: "x" }), 400, /reserved/, kv);
  refused(await call("PUT", "/cache/k", {}, { value: "x", encoding: "hex" }), 400, /encoding/, kv);
  refused(
    await call("PUT", "/cache/k", {}, { value: "!!", encoding: "base64" }),
    400,
    /base64/,
    kv,
  );
  // The ttl query parameter now applies to JSON bodies too.
  assert.equal((await call("PUT", "/cache/j?ttl=7", {}, { value: "x" })).status, 200);
  assert.equal(kv.get("j")!.expiresAt, kv.clock + 7000);
  assert.equal(
    (await call("PUT", "/cache/b", {}, { value: "AAH/", encoding: "base64" })).status,
    200,
  );
  assert.deepEqual(kv.get("b")!.value, new Uint8Array([0, 1, 255]));
});

Deno.test("X-Write-Acks beyond the live members: 503 at once with the counts", async () => {
  const { kv, call } = setup();
  kv.liveMembers = 2;
  const r = await call("PUT", "/cache/k", { "x-write-acks": "5" }, { value: "x" });
  assert.equal(r.status, 503);
  assert.deepEqual(JSON.parse(r.text), {
    error: "Cannot acknowledge on 5 replicas: 2 live member(s)",
    required: 5,
    live: 2,
  });
  assert.equal(kv.writes, 0);
});

Deno.test("POST /purge by tags or keys; DELETE /cache flushes only with X-Confirm", async () => {
  const { kv, call } = setup();
  await kv.set("a", "1", { tags: ["t"] });
  await kv.set("b", "2", { tags: ["u"] });
  await kv.set("c", "3");
  await kv.set("d", "4");
  assert.deepEqual(JSON.parse((await call("POST", "/purge", {}, { tags: ["t"] })).text), {
    purged: 1,
  });
  assert.deepEqual(JSON.parse((await call("POST", "/purge", {}, { keys: ["c", "x"] })).text), {
    purged: 1,
  });
  assert.deepEqual([...kv.entries.keys()], ["b", "d"]);
  const writes = kv.writes;
  refused(await call("POST", "/purge", {}, {}), 400, /Nothing to purge/, kv, writes);
  refused(await call("POST", "/purge", {}, { tags: [] }), 400, /Nothing/, kv, writes);
  refused(await call("POST", "/purge", {}, { tag: ["t"] }), 400, /"tag"/, kv, writes);
  refused(await call("POST", "/purge", {}, { keys: [1] }), 400, /keys/, kv, writes);
  refused(
    await call("POST", "/purge", {}, { keys: ["x".repeat(65)] }),
    414,
    /too long/,
    kv,
    writes,
  );
  refused(
    await call("POST", "/purge", { "content-type": "text/plain" }, "t"),
    415,
    /json/,
    kv,
    writes,
  );
  assert.equal((await call("GET", "/purge")).status, 405);
  const unconfirmed = await call("DELETE", "/cache");
  refused(unconfirmed, 400, /X-Confirm: flush-all/, kv, writes);
  assert.equal(kv.entries.size, 2);
  const flushed = await call("DELETE", "/cache", { "x-confirm": "flush-all" });
  assert.deepEqual(JSON.parse(flushed.text), { flushed: 2 });
  assert.equal(kv.entries.size, 0);
  refused(await call("PUT", "/cache", {}, { value: "x" }), 400, /empty/, kv, writes);
});
