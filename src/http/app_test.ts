/**
 * In-process tests of the HTTP contract (README's HTTP API section, ../shared/api-contract.md):
 * requests go to `createHandler(node)` (or `createApp(node).request`) of a real node started
 * without servers on virtual time; failures the node cannot be made to produce here are injected
 * with a {@link spyService}. They pin the statuses, headers and bodies served today.
 */

import assert from "node:assert/strict";
import { SyncNotReadyError, WriteAcksError } from "../replication/mod.ts";
import { CacheNode } from "../node/cache_node.ts";
import type { CacheService } from "../service/mod.ts";
import { createApp } from "./app.ts";
import { etagOf as etag } from "../service/mod.ts";
import { createHandler } from "./handler.ts";
import { spyService, startTestNode } from "../../testing/mod.ts";
import denoJson from "../../deno.json" with { type: "json" };

const TEXT = "text/plain; charset=utf-8";
const JSON_TYPE = "application/json; charset=utf-8";

interface Answer {
  status: number;
  headers: Record<string, string>;
  text: string;
  bytes: Uint8Array;
}

/** A caller of `service`'s handler: `call(method, path, headers?, body?)`. */
function client(service: CacheService) {
  const handler = createHandler(service);
  return async (
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: BodyInit,
  ): Promise<Answer> => {
    const res = await handler(new Request(`http://node${path}`, { method, headers, body }));
    const bytes = new Uint8Array(await res.arrayBuffer());
    return {
      status: res.status,
      headers: Object.fromEntries(res.headers),
      text: new TextDecoder().decode(bytes),
      bytes,
    };
  };
}

const json = (doc: unknown) => ({ "content-type": "application/json", body: JSON.stringify(doc) });

/** PUT of a JSON document. */
function putJson(call: ReturnType<typeof client>, path: string, doc: unknown) {
  const { body, ...headers } = json(doc);
  return call("PUT", path, headers, body);
}

function assertJsonError(r: Answer, status: number, error?: string | RegExp) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers["content-type"], JSON_TYPE);
  const doc = JSON.parse(r.text);
  assert.equal(typeof doc.error, "string");
  if (typeof error === "string") assert.equal(doc.error, error);
  else if (error) assert.match(doc.error, error);
}

function assertOk(r: Answer) {
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, "OK");
  assert.deepEqual(r.headers, { "content-type": TEXT });
}

Deno.test("PUT with the compat JSON body: duration in ns as a string or an integer", async () => {
  await using t = await startTestNode();
  const call = client(t.node);
  assertOk(await putJson(call, "/cache/John10", { value: "test", duration: "9000000000000" }));
  assertOk(await putJson(call, "/cache/int", { value: "i", duration: 1_500_000_000 }));
  assertOk(await putJson(call, "/cache/ns", { value: "n", duration: "1" }));
  assertOk(await putJson(call, "/cache/forever", { value: "f" }));
  const hit = await call("GET", "/cache/John10");
  assert.deepEqual([hit.status, hit.text, hit.headers], [200, "test", { "content-type": TEXT }]);
  assert.equal((await call("HEAD", "/cache/John10")).headers["x-ttl-ms"], "9000000");
  assert.equal((await call("HEAD", "/cache/int")).headers["x-ttl-ms"], "1500");
  assert.equal((await call("HEAD", "/cache/ns")).headers["x-ttl-ms"], "1"); // rounded up
  assert.equal((await call("HEAD", "/cache/forever")).headers["x-ttl-ms"], undefined);
  t.clock.advance(1500);
  assert.equal((await call("GET", "/cache/int")).status, 404);
  assert.equal((await call("GET", "/cache/forever")).text, "f");
  assertJsonError(
    await putJson(call, "/cache/k", { value: "v", duration: "1.5" }),
    400,
    /^Invalid duration "1.5"/,
  );
  assertJsonError(
    await putJson(call, "/cache/k", { value: "v", duration: "1", ttl: 1 }),
    400,
    `Give either "duration" (nanoseconds) or "ttl" (seconds), not both`,
  );
});

Deno.test("PUT with a ttl in seconds (JSON ttl, ?ttl=) and raw text/binary bodies", async () => {
  await using t = await startTestNode();
  const call = client(t.node);
  assertOk(await putJson(call, "/cache/j", { value: "v", ttl: 1.5 }));
  assertOk(await call("PUT", "/cache/t?ttl=60", { "content-type": "text/plain" }, "héllo"));
  const bin = new Uint8Array([0, 1, 2, 255]);
  const octet = { "content-type": "application/octet-stream" };
  assertOk(await call("PUT", "/cache/b?ttl=0", octet, bin));
  assert.equal((await call("HEAD", "/cache/j")).headers["x-ttl-ms"], "1500");
  assert.equal((await call("HEAD", "/cache/t")).headers["x-ttl-ms"], "60000");
  assert.equal((await call("HEAD", "/cache/b")).headers["x-ttl-ms"], undefined);
  const text = await call("GET", "/cache/t");
  assert.deepEqual([text.text, text.headers], ["héllo", { "content-type": TEXT }]);
  const raw = await call("GET", "/cache/b");
  assert.deepEqual(raw.bytes, bin);
  assert.deepEqual(raw.headers, { "content-type": "application/octet-stream" });
  assertJsonError(
    await call("PUT", "/cache/t?ttl=-1", { "content-type": "text/plain" }, "x"),
    400,
    `Invalid ttl "-1": expected a non-negative number of seconds`,
  );
  assertJsonError(
    await call("PUT", "/cache/t", { "content-type": "text/csv" }, "x"),
    415,
    /^Unsupported Content-Type "text\/csv"/,
  );
  assertJsonError(
    await call("PUT", "/cache/j", { "content-type": "application/json" }, "{"),
    400,
    /^Malformed JSON body/,
  );
  assertJsonError(await putJson(call, "/cache/j", { duration: "1" }), 400, /^Missing "value"/);
  assert.equal((await call("GET", "/cache/t")).text, "héllo"); // refused writes stored nothing
});

Deno.test("GET hit and miss, HEAD and X-Cache-Meta with ETag and X-Ttl-Ms", async () => {
  await using t = await startTestNode();
  const call = client(t.node);
  const miss = await call("GET", "/cache/k");
  assert.deepEqual([miss.status, miss.text, miss.headers], [404, "Not Found", {
    "content-type": TEXT,
  }]);
  const headMiss = await call("HEAD", "/cache/k");
  assert.deepEqual([headMiss.status, headMiss.text], [404, ""]);
  assert.equal(headMiss.headers["content-length"], "9"); // the GET's "Not Found"
  await putJson(call, "/cache/k", { value: "v", ttl: 10 });
  t.clock.advance(4000);
  const tag = etag(t.node.get("k")!.version);
  const head = await call("HEAD", "/cache/k");
  assert.equal(head.status, 200);
  assert.equal(head.text, "");
  // What the GET answers, and the length of its body: the server leaves a HEAD's to us.
  assert.deepEqual(head.headers, {
    "content-type": TEXT,
    etag: tag,
    "x-ttl-ms": "6000",
    "content-length": "1",
  });
  const meta = await call("GET", "/cache/k", { "x-cache-meta": "true" });
  assert.equal(meta.text, "v");
  assert.deepEqual(meta.headers, { "content-type": TEXT, etag: tag, "x-ttl-ms": "6000" });
  // Only "true" asks for metadata; a plain hit carries the content type alone.
  const plain = await call("GET", "/cache/k", { "x-cache-meta": "false" });
  assert.deepEqual([plain.text, plain.headers], ["v", { "content-type": TEXT }]);
  assert.match(tag, /^"[0-9a-z]+-test-node"$/);
});

Deno.test("DELETE answers OK whether or not the key exists, and the key is gone", async () => {
  await using t = await startTestNode();
  const call = client(t.node);
  await putJson(call, "/cache/k", { value: "v" });
  assertOk(await call("DELETE", "/cache/k"));
  assert.equal((await call("GET", "/cache/k")).status, 404);
  assertOk(await call("DELETE", "/cache/never"));
});

Deno.test("keys: percent-decoding, malformed %, empty, too long", async () => {
  await using t = await startTestNode({ maxKeyBytes: 8 });
  const call = client(t.node);
  assertOk(await putJson(call, "/cache/a%20b%2Fc", { value: "v" }));
  assert.equal(t.node.get("a b/c")?.value, "v");
  assert.equal((await call("GET", "/cache/a%20b%2Fc")).text, "v");
  assert.equal((await call("GET", "/cache/a%20b%2Fc?x=1")).text, "v");
  for (const method of ["GET", "HEAD", "PUT", "DELETE"]) {
    const r = await call(method, "/cache/%E0%A4%A", json({ value: "v" }));
    assert.equal(r.status, 400, method);
  }
  assertJsonError(
    await call("GET", "/cache/%zz"),
    400,
    `Invalid key "%zz": malformed percent-encoding`,
  );
  assertJsonError(await call("GET", "/cache/"), 400, "Invalid key: empty");
  assertJsonError(await putJson(call, "/cache", { value: "v" }), 400, "Invalid key: empty");
  assertOk(await putJson(call, "/cache/12345678", { value: "v" }));
  assertJsonError(await call("GET", "/cache/123456789"), 414, "Key too long: 9 bytes, limit is 8");
  assertJsonError(
    await putJson(call, "/cache/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9", { value: "v" }),
    414,
    "Key too long: 10 bytes, limit is 8", // 5 characters, 10 UTF-8 bytes
  );
  assertJsonError(await call("GET", "/cache/a/b"), 404, "No route for GET /cache/a/b");
});

Deno.test("values over the limit are refused with 413 and nothing is stored", async () => {
  await using t = await startTestNode({ maxValueBytes: 4 });
  const call = client(t.node);
  assertOk(await call("PUT", "/cache/k", { "content-type": "text/plain" }, "1234"));
  const text = (length?: string) => ({
    "content-type": "text/plain",
    ...(length === undefined ? {} : { "content-length": length }),
  });
  // A declared length is refused before reading; else the read stops past the limit.
  assertJsonError(
    await call("PUT", "/cache/k", text("5"), "12345"),
    413,
    "Request body too large: 5 bytes, limit is 4",
  );
  assertJsonError(
    await call("PUT", "/cache/k", text(), "12345"),
    413,
    "Request body too large: over 4 bytes",
  );
  assertJsonError(
    await putJson(call, "/cache/k", { value: "ééé" }),
    413,
    "Value too large: 6 bytes, limit is 4",
  );
  assert.equal((await call("GET", "/cache/k")).text, "1234");
});

Deno.test("405 with Allow on other methods of /cache/{key}", async () => {
  await using t = await startTestNode();
  const call = client(t.node);
  for (const method of ["POST", "PATCH", "OPTIONS"]) {
    const r = await call(method, "/cache/k");
    assertJsonError(r, 405, `Method ${method} not allowed on /cache/{key}`);
    assert.equal(r.headers.allow, "GET, HEAD, PUT, DELETE");
  }
});

Deno.test("X-Is-Sync and X-Write-Acks reach the node as write options; bad acks are 400", async () => {
  await using t = await startTestNode();
  const { service, writes } = spyService(t.node);
  const call = client(service);
  const put = (headers: Record<string, string>) =>
    call("PUT", "/cache/k", { "content-type": "text/plain", ...headers }, "v");
  assertOk(await put({}));
  assertOk(await put({ "x-is-sync": "true" }));
  assertOk(await put({ "x-write-acks": "all" }));
  assertOk(await call("DELETE", "/cache/k", { "x-is-sync": "true", "x-write-acks": "2" }));
  // Compared as JSON: options left undefined are not part of the contract.
  assert.deepEqual(JSON.parse(JSON.stringify(writes)), [
    { op: "set", key: "k", options: { local: false } },
    { op: "set", key: "k", options: { local: true } },
    { op: "set", key: "k", options: { local: false, acks: "all" } },
    { op: "delete", key: "k", options: { local: true, acks: 2 } },
  ]);
  for (const bad of ["0", "some", "-1"]) {
    assertJsonError(
      await put({ "x-write-acks": bad }),
      400,
      `Invalid X-Write-Acks "${bad}": expected "all" or a replica count >= 1`,
    );
    assertJsonError(await call("DELETE", "/cache/k", { "x-write-acks": bad }), 400);
  }
  assert.equal(writes.length, 4);
});

Deno.test("write failures map to statuses (504 acks, 503, 413, 500) on PUT and DELETE", async () => {
  await using t = await startTestNode();
  const cases: [unknown, number, Record<string, unknown>][] = [
    [new WriteAcksError("1 of 3 replicas confirmed", 1, 3), 504, {
      error: "1 of 3 replicas confirmed",
      acks: 1,
      required: 3,
    }],
    [new SyncNotReadyError("not synced yet"), 503, { error: "not synced yet" }],
    [new RangeError("entry larger than the budget"), 413, {
      error: "entry larger than the budget",
    }],
    [new Error("boom"), 500, { error: "Internal error: boom" }],
  ];
  for (const [failure, status, body] of cases) {
    const call = client(spyService(t.node, failure).service);
    for (
      const r of [await putJson(call, "/cache/k", { value: "v" }), await call("DELETE", "/cache/k")]
    ) {
      assert.equal(r.status, status, r.text);
      assert.deepEqual(r.headers, { "content-type": JSON_TYPE });
      assert.deepEqual(JSON.parse(r.text), body);
    }
  }
});

Deno.test("cluster views of a node without gossip: members, compat members, ring", async () => {
  await using t = await startTestNode();
  const app = createApp(t.node);
  const get = async (path: string) => {
    const res = await app.request(path);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    return await res.json();
  };
  assert.deepEqual(await get("/cache/members"), [
    { name: "test-node", addr: "127.0.0.1:7946", port: 7946, http_port: 8000 },
  ]);
  assert.deepEqual(await get("/cluster/members"), [{
    name: "test-node",
    addr: "127.0.0.1",
    port: 7946,
    http_port: 8000,
    state: "alive",
    incarnation: 0,
    meta: { http_port: 8000 },
  }]);
  assert.deepEqual(await get("/cluster/ring"), { replicas: "all", members: 1 });
  assert.deepEqual(await get("/cluster/ring?key=k"), { replicas: "all", members: 1 });
  // A service without `ring` (no placement at all) answers the bare full-replication shape.
  const bare = spyService(t.node).service;
  assert.equal(bare.ring, undefined);
  const res = await createApp(bare).request("/cluster/ring");
  assert.deepEqual(await res.json(), { replicas: "all" });
  // A key named "members" could never be read back: PUT refuses it (issue 17); DELETE and HEAD
  // still reach the key (one written before, or by an embedder).
  const call = client(t.node);
  assertJsonError(await putJson(call, "/cache/members", { value: "m" }), 400, /reserved/);
  assert.equal(t.node.get("members"), undefined);
  await t.node.set("members", "m");
  assert.equal((await call("HEAD", "/cache/members", { "x-cache-meta": "true" })).status, 200);
  assertOk(await call("DELETE", "/cache/members"));
  assert.equal(t.node.get("members"), undefined);
});

Deno.test("healthz, readyz before start, after start and after close, stats", async () => {
  const node = new CacheNode({ nodeName: "test-node" });
  const call = client(node);
  const health = await call("GET", "/healthz");
  assert.deepEqual([health.status, JSON.parse(health.text)], [200, {
    status: "ok",
    version: denoJson.version,
  }]);
  const early = await call("GET", "/readyz");
  assert.equal(early.status, 503);
  assert.deepEqual(JSON.parse(early.text), { ready: false, reason: "not started" });
  await node.start({ http: false, cluster: false });
  try {
    const ready = await call("GET", "/readyz");
    assert.deepEqual([ready.status, JSON.parse(ready.text)], [200, { ready: true }]);
    await putJson(call, "/cache/k", { value: "v" });
    await call("GET", "/cache/k");
    await call("GET", "/cache/missing");
    const stats = await call("GET", "/stats");
    assert.equal(stats.status, 200);
    const doc = JSON.parse(stats.text);
    assert.equal(doc.node, "test-node");
    assert.equal(doc.version, denoJson.version);
    assert.deepEqual(
      [doc.store.entries, doc.store.hits, doc.store.misses],
      [1, 1, 1],
    );
    assert.equal(typeof doc.store.digest, "string");
    assert.deepEqual(Object.keys(doc.http).sort(), [
      "bodyTimeouts",
      "inFlight",
      "maxInFlight",
      "rejectedBusy",
      "requests",
      "streamsClosedUnread",
      "streamsOpen",
      "streamsRefused",
    ]);
    assert.equal(doc.replication, undefined);
    assert.equal(doc.membership, undefined);
  } finally {
    await node.close();
  }
  assert.equal((await call("GET", "/readyz")).status, 503);
});

Deno.test("unknown routes answer 404 JSON naming the method and path", async () => {
  await using t = await startTestNode();
  const call = client(t.node);
  assertJsonError(await call("GET", "/nope"), 404, "No route for GET /nope");
  assertJsonError(await call("POST", "/stats"), 404, "No route for POST /stats");
  assertJsonError(await call("GET", "/metrics"), 404, "No route for GET /metrics"); // no metrics
  assertJsonError(await call("GET", "/"), 404, "No route for GET /"); // no dashboard
});

Deno.test("a write failing with a non-Error answers 500 JSON on the fast path and in Hono", async () => {
  await using t = await startTestNode();
  const call = client(spyService(t.node, "plain").service);
  const put = await putJson(call, "/cache/k", { value: "v" });
  assert.equal(put.status, 500);
  assert.deepEqual(JSON.parse(put.text), { error: "Internal error: plain" });
  assertJsonError(await call("DELETE", "/cache/k"), 500, "Internal error: plain");
});

Deno.test("the OpenAPI document carries cachenode's version", async () => {
  await using t = await startTestNode();
  const doc = JSON.parse((await client(t.node)("GET", "/openapi.json")).text);
  assert.equal(doc.info.version, denoJson.version);
});
