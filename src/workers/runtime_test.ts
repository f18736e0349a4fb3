import assert from "node:assert/strict";
import { startTestNode } from "../../testing/test_node.ts";
import { waitFor } from "../../testing/mod.ts";
import { createLogger } from "../util/log.ts";
import { WorkerRuntime, type WorkerSettings } from "./mod.ts";

/** A module file in a fresh folder, and settings that run it. */
async function workerFile(
  source: string,
  overrides: Partial<WorkerSettings> = {},
): Promise<{ settings: WorkerSettings; path: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "cachenode-worker-" });
  const path = `${dir}/worker.ts`;
  await Deno.writeTextFile(path, source);
  return {
    path,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
    settings: {
      moduleUrl: new URL(`file://${path}`).href,
      dir,
      bindings: ["CACHE", "SESSIONS"],
      vars: { GREETING: "hi" },
      allowNet: [],
      origin: true,
      poolSize: 1,
      timeoutMs: 2_000,
      memoryBytes: 0,
      reload: false,
      processes: false,
      ...overrides,
    },
  };
}

const KV_WORKER = `
export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const kv = url.searchParams.get("ns") === "s" ? env.SESSIONS : env.CACHE;
    switch (url.pathname) {
      case "/put":
        await kv.put("k", await request.text(), { metadata: { m: 1 }, expirationTtl: 60 });
        return new Response("ok");
      case "/get":
        return Response.json({
          text: await kv.get("k"),
          json: await kv.get("j", "json"),
          bytes: [...new Uint8Array(await kv.get("k", { type: "arrayBuffer" }) ?? new ArrayBuffer(0))],
          stream: await new Response(await kv.get("k", "stream")).text(),
          meta: await kv.getWithMetadata("k"),
          missing: await kv.get("nope"),
        });
      case "/list":
        return Response.json(await kv.list({ prefix: url.searchParams.get("prefix") ?? "", limit: 2, cursor: url.searchParams.get("cursor") ?? undefined }));
      case "/incr":
        return new Response(String(await kv.incr("n", 5, { expirationTtl: 10 })));
      case "/del":
        await kv.delete("k");
        return new Response("deleted");
      case "/vars":
        return new Response(env.GREETING + " " + typeof env.ORIGIN);
      case "/origin":
        return env.ORIGIN.fetch("/from-worker?q=1", { headers: { "x-a": "b" } });
      case "/later":
        ctx.waitUntil(kv.put("later", "done"));
        return new Response("soon");
      case "/pass":
        ctx.passThroughOnException();
        throw new Error("boom");
      case "/throw":
        throw new Error("boom");
      case "/garbage":
        self.postMessage([null]);
        self.postMessage([[1, 1, "not a status", [], null]]);
        return new Response("sent");
      case "/reject":
        Promise.reject(new Error("nobody waits for this"));
        ctx.waitUntil(Promise.reject(new Error("a failed background task")));
        return new Response("fine");
      case "/loop":
        while (true) {}
      case "/echo":
        return new Response(await request.arrayBuffer(), { status: 201, headers: { "x-echo": request.method } });
    }
    return new Response("not found", { status: 404 });
  },
};
`;

Deno.test("WorkerRuntime: KV bindings read and write the node's store under kv:<BINDING>:", async () => {
  await using test = await startTestNode();
  await using file = await workerFile(KV_WORKER);
  await using runtime = new WorkerRuntime({ settings: file.settings, service: test.node });
  await runtime.start();
  const call = (path: string, init?: RequestInit) =>
    runtime.handle(new Request(`http://edge${path}`, init));

  assert.equal(await (await call("/put", { method: "POST", body: "v1" })).text(), "ok");
  const entry = test.node.get("kv:CACHE:k");
  assert.equal(entry?.value, "v1");
  assert.deepEqual(entry?.metadata, { m: 1 });
  assert.equal(entry?.expiresAt, test.node.now() + 60_000);
  await test.node.set("kv:CACHE:j", '{"a":[1]}');
  assert.deepEqual(await (await call("/get")).json(), {
    text: "v1",
    json: { a: [1] },
    bytes: [118, 49],
    stream: "v1",
    meta: { value: "v1", metadata: { m: 1 } },
    missing: null,
  });
  // Another binding is another namespace.
  assert.equal((await (await call("/get?ns=s")).json()).text, null);
  await call("/put?ns=s", { method: "POST", body: "s1" });
  assert.equal(test.node.get("kv:SESSIONS:k")?.value, "s1");

  assert.equal(await (await call("/incr")).text(), "5");
  assert.equal(await (await call("/incr")).text(), "10");
  assert.equal(test.node.get("kv:CACHE:n")?.expiresAt, test.node.now() + 10_000);

  const page1 = await (await call("/list")).json();
  assert.deepEqual(page1.keys.map((k: { name: string }) => k.name), ["j", "k"]);
  assert.equal(page1.list_complete, false);
  assert.equal(page1.keys[1].metadata.m, 1);
  assert.equal(page1.keys[1].expiration, Math.floor((test.node.now() + 60_000) / 1000));
  const page2 = await (await call(`/list?cursor=${encodeURIComponent(page1.cursor)}`)).json();
  assert.deepEqual(page2, {
    keys: [{ name: "n", expiration: Math.floor((test.node.now() + 10_000) / 1000) }],
    list_complete: true,
  });

  assert.equal(await (await call("/del")).text(), "deleted");
  assert.equal(test.node.get("kv:CACHE:k"), undefined);
  assert.equal((await (await call("/get")).json()).text, null);
});

Deno.test("WorkerRuntime: vars, ORIGIN, waitUntil, pass-through, errors, timeouts, bodies", async () => {
  await using test = await startTestNode();
  await using file = await workerFile(KV_WORKER, { timeoutMs: 300 });
  const seen: string[] = [];
  const logged: string[] = [];
  await using runtime = new WorkerRuntime({
    logger: createLogger({ level: "warn", write: (line) => logged.push(line) }),
    settings: file.settings,
    service: test.node,
    originFetch: (request) => {
      seen.push(
        `${request.method} ${new URL(request.url).pathname}${new URL(request.url).search} ${
          request.headers.get("x-a")
        }`,
      );
      return Promise.resolve(new Response("from origin", { status: 200 }));
    },
  });
  await runtime.start();
  const call = (path: string, init?: RequestInit) =>
    runtime.handle(new Request(`http://edge${path}`, init));

  assert.equal(await (await call("/vars")).text(), "hi object");
  assert.equal(await (await call("/origin")).text(), "from origin");
  assert.deepEqual(seen, ["GET /from-worker?q=1 b"]);
  assert.equal(await (await call("/later")).text(), "soon");
  await waitFor("waitUntil's write", () => test.node.get("kv:CACHE:later"));
  assert.equal(test.node.get("kv:CACHE:later")?.value, "done");

  const passed = await call("/pass");
  assert.equal(await passed.text(), "from origin");
  assert.equal(seen.length, 2);
  assert.equal((await call("/throw")).status, 500);
  assert.ok(logged.some((l) => l.includes("worker request failed") && l.includes("boom")));
  assert.equal(await (await call("/reject")).text(), "fine");
  assert.equal(await (await call("/vars")).text(), "hi object", "the same worker goes on");
  await waitFor(
    "rejections logged",
    () =>
      logged.some((l) => l.includes("unhandled rejection") && l.includes("nobody waits")) &&
        logged.some((l) => l.includes("waitUntil") && l.includes("a failed background task")) ||
      undefined,
  );

  const echo = await call("/echo", { method: "PUT", body: new Uint8Array([1, 2, 3]) });
  assert.equal(echo.status, 201);
  assert.equal(echo.headers.get("x-echo"), "PUT");
  assert.deepEqual([...await echo.bytes()], [1, 2, 3]);
  const big = await call("/echo", {
    method: "POST",
    body: new Uint8Array(test.node.limits.maxValueBytes + 1),
  });
  assert.equal(big.status, 413, "a body over MAX_VALUE_BYTES is refused before the worker");
  await big.body?.cancel();

  const loop = await call("/loop");
  assert.equal(loop.status, 503);
  await loop.body?.cancel();
  assert.equal(await (await call("/vars")).text(), "hi object", "a fresh worker serves");
  const stats = runtime.stats();
  assert.equal(stats.timeouts, 1);
  assert.equal(stats.restarts, 1, "only the timeout replaced a worker");
  assert.equal(stats.errors, 2);
  assert.equal(stats.requests, 10);
  assert.equal(stats.durationBuckets.reduce((n, b) => n + b.count, 0), 10);
});

Deno.test("WorkerRuntime: a worker posting what the protocol does not know is replaced; the host goes on", async () => {
  await using test = await startTestNode();
  await using file = await workerFile(KV_WORKER);
  await using runtime = new WorkerRuntime({ settings: file.settings, service: test.node });
  await runtime.start();
  const garbage = await runtime.handle(new Request("http://edge/garbage"));
  assert.equal(garbage.status, 500);
  await garbage.body?.cancel();
  assert.equal(await (await runtime.handle(new Request("http://edge/vars"))).text(), "hi object");
  assert.equal(runtime.stats().restarts, 1);
});

const versioned = (version: string) =>
  `export default {
    async fetch(request) {
      if (new URL(request.url).pathname === "/slow") await new Promise((r) => setTimeout(r, 300));
      return new Response("${version}");
    },
  };`;

Deno.test("WorkerRuntime.reload: new requests take the new module, in-flight ones finish on the old", async () => {
  await using test = await startTestNode();
  await using file = await workerFile(versioned("v1"), { poolSize: 2 });
  await using runtime = new WorkerRuntime({ settings: file.settings, service: test.node });
  await runtime.start();
  const call = async (p = "/") =>
    await (await runtime.handle(new Request(`http://edge${p}`))).text();
  assert.equal(await call(), "v1");
  const slow = call("/slow");
  await Deno.writeTextFile(file.path, versioned("v2"));
  await runtime.reload();
  assert.equal(await call(), "v2");
  assert.equal(await slow, "v1", "the request in flight finished on the old pool");
  await Deno.writeTextFile(file.path, `export default { nofetch: 1 };`);
  await runtime.reload();
  assert.equal(await call(), "v2", "a module that fails to load leaves the old one serving");
  assert.equal(runtime.stats().reloads, 1);
});

Deno.test("WorkerRuntime: with reload on, a changed file is picked up by itself", async () => {
  await using test = await startTestNode();
  await using file = await workerFile(versioned("v1"), { reload: true });
  await using runtime = new WorkerRuntime({ settings: file.settings, service: test.node });
  await runtime.start();
  const call = async () => await (await runtime.handle(new Request("http://edge/"))).text();
  assert.equal(await call(), "v1");
  await Deno.writeTextFile(file.path, versioned("v2"));
  await waitFor("v2 served", async () => await call() === "v2" || undefined, 5_000);
  assert.equal(runtime.stats().reloads, 1);
});

Deno.test("WorkerRuntime.start: a module without a fetch handler is refused with the reason", async () => {
  await using test = await startTestNode();
  await using file = await workerFile(`export default {};`);
  const runtime = new WorkerRuntime({ settings: file.settings, service: test.node });
  await assert.rejects(() => runtime.start(), /has no fetch\(request, env, ctx\)/);
});

Deno.test("WorkerRuntime: requests held while the worker is busy all leave, and a handler waiting on a timer holds none back", async () => {
  await using test = await startTestNode();
  await using file = await workerFile(`export default {
    async fetch(request, env) {
      const path = new URL(request.url).pathname;
      if (path === "/slow") await new Promise((r) => setTimeout(r, 1000));
      if (path.startsWith("/kv/")) await env.CACHE.incr("hits");
      if (path === "/bad") {
        return new Response(await env.CACHE.put("k".repeat(100_000), "v").then(() => "stored", (e) => e.message));
      }
      return new Response(path);
    },
  };`);
  await using runtime = new WorkerRuntime({ settings: file.settings, service: test.node });
  await runtime.start();
  const call = async (path: string) =>
    await (await runtime.handle(new Request(`http://edge${path}`))).text();
  // The pool has one worker: while /slow waits on its timer (no message to the host), the
  // requests after it must still reach the worker, not wait for /slow's answer.
  const slow = call("/slow").then((text) => ({ text }));
  // One turn of the event loop: the frame with /slow leaves, and the worker has not answered it.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const paths = Array.from({ length: 200 }, (_, i) => (i % 2 ? `/kv/${i}` : `/${i}`));
  const all = Promise.all(paths.map(call));
  const first = await Promise.race([slow, all]);
  assert.deepEqual(first, paths, "every request answered, each with its own answer, before /slow");
  assert.equal(test.node.get("kv:CACHE:hits")?.value, "100");
  assert.deepEqual(await slow, { text: "/slow" });
  assert.match(await call("/bad"), /key/i, "a refused write rejects the worker's promise");
});
