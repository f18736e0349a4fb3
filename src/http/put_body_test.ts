import assert from "node:assert/strict";
import { HttpError } from "./errors.ts";
import { readBodyLimited } from "./put_body.ts";

/** A request whose body sends `first` and then stalls (never closes). */
function stalledRequest(first: Uint8Array, headers: Record<string, string> = {}): Request {
  const body = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(first) });
  return new Request("http://n/cache/k", { method: "PUT", body, headers });
}

Deno.test("readBodyLimited answers 408 when the body does not arrive in time", async () => {
  const started = performance.now();
  await assert.rejects(
    readBodyLimited(stalledRequest(new Uint8Array(3)), 1024, 50),
    (e) =>
      e instanceof HttpError && e.status === 408 && /not received within 50 ms/.test(e.message),
  );
  assert.ok(performance.now() - started < 2_000);
  // With a declared length too (the buffered path).
  await assert.rejects(
    readBodyLimited(stalledRequest(new Uint8Array(3), { "content-length": "10" }), 1024, 50),
    (e) => e instanceof HttpError && e.status === 408,
  );
});

Deno.test("readBodyLimited reads complete bodies under the deadline and caps their size", async () => {
  const body = new Uint8Array([1, 2, 3]);
  const ok = new Request("http://n/", { method: "PUT", body });
  assert.deepEqual(await readBodyLimited(ok, 10, 1_000), body);
  const chunked = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(8));
      c.enqueue(new Uint8Array(8));
      c.close();
    },
  });
  await assert.rejects(
    readBodyLimited(new Request("http://n/", { method: "PUT", body: chunked }), 10, 1_000),
    (e) => e instanceof HttpError && e.status === 413,
  );
});
