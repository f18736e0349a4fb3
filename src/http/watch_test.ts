/** `GET /watch`: Server-Sent Events of changes by prefix, overflow of slow readers, cleanup. */

import assert from "node:assert/strict";
import { etagOf } from "../service/mod.ts";
import { createHandler } from "./handler.ts";
import { FakeKv } from "./_fake_kv.ts";

async function readUntil(reader: ReadableStreamDefaultReader<Uint8Array>, end: string) {
  let text = "";
  const decoder = new TextDecoder();
  while (!text.includes(end)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

Deno.test("GET /watch streams put, delete and expire events of keys with the prefix", async () => {
  const kv = new FakeKv();
  const res = await createHandler(kv)(new Request("http://node/watch?prefix=a"));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "text/event-stream; charset=utf-8");
  const reader = res.body!.getReader();
  await kv.set("b1", "ignored");
  await kv.set("a1", "v");
  const put = etagOf(kv.get("a1")!.version);
  await kv.delete("a1");
  const text = await readUntil(reader, "event: delete");
  assert.match(text, /^: watching "a"\n\n/);
  assert.ok(text.includes(`event: put\ndata: ${JSON.stringify({ key: "a1", version: put })}\n\n`));
  assert.ok(!text.includes("b1"));
  assert.equal(kv.watchers.size, 1);
  await reader.cancel();
  assert.equal(kv.watchers.size, 0, "stops watching when the client goes away");
});

Deno.test("a reader that falls behind gets event: overflow and the stream ends", async () => {
  const kv = new FakeKv();
  const handler = createHandler(kv, { watchLimits: { maxQueuedEvents: 5, heartbeatMs: 0 } });
  const res = await handler(new Request("http://node/watch"));
  for (let i = 0; i < 10; i++) await kv.set(`k${i}`, "v");
  assert.equal(kv.watchers.size, 0, "no longer watching");
  const text = await res.text();
  assert.ok(text.endsWith("event: overflow\ndata: {}\n\n"), text);
  assert.ok((text.match(/event: put/g) ?? []).length < 10);
});

Deno.test("GET /watch refuses unknown query parameters", async () => {
  const kv = new FakeKv();
  const res = await createHandler(kv)(new Request("http://node/watch?prefx=a"));
  assert.equal(res.status, 400);
  assert.match((await res.json()).error, /prefx/);
  assert.equal(kv.watchers.size, 0);
});
