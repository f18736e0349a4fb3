/**
 * The KV routes of issue 17 against a real node (in process, virtual time): conditional
 * writes, counters, listing, metadata, purge and flush answer as with the in-memory service.
 */

import assert from "node:assert/strict";
import { etagOf } from "../service/mod.ts";
import { createHandler } from "./handler.ts";
import { startTestNode } from "../../testing/mod.ts";

Deno.test("a real node: If-Match, If-None-Match, incr, list with metadata, purge, flush", async () => {
  await using t = await startTestNode();
  const handler = createHandler(t.node);
  const call = async (method: string, path: string, headers = {}, body?: unknown) => {
    const res = await handler(
      new Request(`http://node${path}`, {
        method,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );
    return { status: res.status, text: await res.text(), etag: res.headers.get("etag") };
  };
  assert.equal(
    (await call("PUT", "/cache/k", {}, { value: "1", metadata: { a: 1 }, tags: ["t"] })).status,
    200,
  );
  const tag = etagOf(t.node.get("k")!.version);
  assert.equal((await call("GET", "/cache/k", { "if-none-match": tag })).status, 304);
  assert.equal(
    (await call("PUT", "/cache/k", { "if-match": `"1-x"` }, { value: "2" })).status,
    412,
  );
  assert.equal(
    (await call("PUT", "/cache/k", { "if-none-match": "*" }, { value: "2" })).status,
    412,
  );
  assert.equal((await call("PUT", "/cache/k", { "if-match": tag }, { value: "2" })).status, 200);
  assert.equal(t.node.get("k")!.value, "2");
  assert.deepEqual(JSON.parse((await call("POST", "/cache/c/incr", {}, { by: 3 })).text), {
    value: 3,
  });
  assert.equal((await call("POST", "/cache/k/incr")).status, 200); // "2" is a counter
  assert.equal((await call("PUT", "/cache/s", {}, { value: "x" })).status, 200);
  assert.equal((await call("POST", "/cache/s/incr")).status, 409);
  const page = JSON.parse((await call("GET", "/cache?limit=2")).text);
  assert.deepEqual(page.keys.map((k: { name: string }) => k.name), ["c", "k"]);
  assert.equal(page.list_complete, false);
  assert.equal((await call("PUT", "/cache/m", {}, { value: "x", metadata: { a: 1 } })).status, 200);
  const all = JSON.parse((await call("GET", "/cache?prefix=m")).text);
  assert.deepEqual(all, { keys: [{ name: "m", metadata: { a: 1 } }], list_complete: true });
  assert.equal(
    (await call("PUT", "/cache/x", { "x-write-acks": "3" }, { value: "x" })).status,
    503,
  );
  assert.equal(t.node.get("x"), undefined);
  assert.deepEqual(JSON.parse((await call("POST", "/purge", {}, { keys: ["s"] })).text), {
    purged: 1,
  });
  const flushed = await call("DELETE", "/cache", { "x-confirm": "flush-all" });
  assert.equal(flushed.status, 200, flushed.text);
  assert.equal(t.node.get("k"), undefined);
});
