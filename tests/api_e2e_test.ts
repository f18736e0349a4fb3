/**
 * End-to-end tests of the HTTP API contract (../shared/api-contract.md) against a real node
 * process started with the README's command (`deno task run`). The compat curl commands run
 * literally through curl.
 */

import assert from "node:assert/strict";
import { NodeProcess, waitFor } from "../testing/mod.ts";
import denoJson from "../deno.json" with { type: "json" };

async function curl(...args: string[]): Promise<{ status: number; body: string; type: string }> {
  const out = await new Deno.Command("curl", {
    args: ["-s", "-o", "-", "-w", "\n%{http_code} %{content_type}", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const nl = text.lastIndexOf("\n");
  const [status, ...type] = text.slice(nl + 1).split(" ");
  return { status: Number(status), body: text.slice(0, nl), type: type.join(" ") };
}

async function call(node: NodeProcess, method: string, path: string, init: RequestInit = {}) {
  const res = await fetch(node.url(path), { method, ...init });
  const body = method === "HEAD" ? "" : await res.text();
  return { status: res.status, body, headers: res.headers };
}

function putJson(node: NodeProcess, key: string, doc: unknown, headers: HeadersInit = {}) {
  return call(node, "PUT", `/cache/${key}`, {
    headers: { "content-type": "application/json", ...headers },
    body: typeof doc === "string" ? doc : JSON.stringify(doc),
  });
}

function assertJsonError(r: { status: number; body: string; headers: Headers }, status: number) {
  assert.equal(r.status, status, r.body);
  assert.match(r.headers.get("content-type") ?? "", /application\/json/);
  assert.equal(typeof JSON.parse(r.body).error, "string", r.body);
}

Deno.test("API contract against a real node", async (t) => {
  await using node = await NodeProcess.start({ MAX_VALUE_BYTES: "1kb", MAX_KEY_BYTES: "64" });
  const base = `http://localhost:${node.httpPort}`;

  await t.step(
    "compat PUT with duration in ns, then GET, as the earlier README's curl",
    async () => {
      const put = await curl(
        "-X",
        "PUT",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"value": "test", "duration": "9000000000000"}',
        `${base}/cache/John10`,
      );
      assert.deepEqual([put.status, put.body], [200, "OK"]);
      assert.match(put.type, /^text\/plain/);
      const get = await curl(`${base}/cache/John10`);
      assert.deepEqual([get.status, get.body, get.type], [
        200,
        "test",
        "text/plain; charset=utf-8",
      ]);
      const r = await call(node, "GET", "/cache/John10", {
        headers: { "x-cache-meta": "true" },
      });
      const ttl = Number(r.headers.get("x-ttl-ms"));
      assert.ok(ttl > 8_990_000 && ttl <= 9_000_000, `x-ttl-ms ${ttl}`);
      assert.ok(r.headers.get("etag"));
    },
  );

  await t.step("GET miss is 404 Not Found; DELETE is 200 OK and idempotent", async () => {
    const miss = await curl(`${base}/cache/nobody`);
    assert.deepEqual([miss.status, miss.body], [404, "Not Found"]);
    await putJson(node, "gone", { value: "x" });
    for (let i = 0; i < 2; i++) {
      const del = await curl("-X", "DELETE", `${base}/cache/gone`);
      assert.deepEqual([del.status, del.body], [200, "OK"]);
    }
    assert.equal((await call(node, "GET", "/cache/gone")).status, 404);
  });

  await t.step(
    "duration as a JSON integer, ttl in seconds, no TTL, empty string value",
    async () => {
      assert.equal(
        (await putJson(node, "int", { value: "a", duration: 5_000_000_000 })).status,
        200,
      );
      const int = await call(node, "HEAD", "/cache/int");
      const intTtl = Number(int.headers.get("x-ttl-ms"));
      assert.ok(intTtl > 4000 && intTtl <= 5000, `x-ttl-ms ${intTtl}`);
      assert.equal((await call(node, "GET", "/cache/int")).body, "a");
      assert.equal((await putJson(node, "secs", { value: "b", ttl: 1.5 })).status, 200);
      const secsTtl = Number((await call(node, "HEAD", "/cache/secs")).headers.get("x-ttl-ms"));
      assert.ok(secsTtl > 1000 && secsTtl <= 1500, `x-ttl-ms ${secsTtl}`);
      assert.equal((await putJson(node, "forever", { value: "c" })).status, 200);
      const forever = await call(node, "HEAD", "/cache/forever");
      assert.equal(forever.headers.get("x-ttl-ms"), null);
      assert.ok(forever.headers.get("etag"));
      assert.equal((await putJson(node, "empty", { value: "" })).status, 200);
      const empty = await call(node, "GET", "/cache/empty");
      assert.deepEqual([empty.status, empty.body], [200, ""]);
    },
  );

  await t.step("a short TTL expires: served before, 404 after", async () => {
    const started = Date.now();
    assert.equal((await putJson(node, "brief", { value: "v", duration: "300000000" })).status, 200);
    assert.equal((await call(node, "GET", "/cache/brief")).body, "v");
    await waitFor(
      "expiry",
      async () => (await call(node, "GET", "/cache/brief")).status === 404 || undefined,
      5000,
      10,
    );
    assert.ok(Date.now() - started >= 300, "expired early");
  });

  await t.step("every bad PUT gets its status and a JSON error, and changes nothing", async () => {
    assert.equal((await putJson(node, "keep", { value: "orig" })).status, 200);
    const bad: [string, RequestInit, number][] = [
      ["malformed JSON", { headers: { "content-type": "application/json" }, body: "{nope" }, 400],
      ["missing value", {
        headers: { "content-type": "application/json" },
        body: '{"duration":"1"}',
      }, 400],
      ["value not a string", {
        headers: { "content-type": "application/json" },
        body: '{"value":5}',
      }, 400],
      ["array body", { headers: { "content-type": "application/json" }, body: '["x"]' }, 400],
      ["negative duration", {
        headers: { "content-type": "application/json" },
        body: '{"value":"n","duration":"-5"}',
      }, 400],
      ["fractional duration", {
        headers: { "content-type": "application/json" },
        body: '{"value":"n","duration":1.5}',
      }, 400],
      ["text duration", {
        headers: { "content-type": "application/json" },
        body: '{"value":"n","duration":"10s"}',
      }, 400],
      ["negative ttl", {
        headers: { "content-type": "application/json" },
        body: '{"value":"n","ttl":-1}',
      }, 400],
      ["both duration and ttl", {
        headers: { "content-type": "application/json" },
        body: '{"value":"n","ttl":1,"duration":"1"}',
      }, 400],
      ["form content type (curl -d default)", {
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: "value=n",
      }, 415],
      ["no content type", { body: new Uint8Array([1, 2]) }, 415],
      ["value over MAX_VALUE_BYTES", {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ value: "x".repeat(1025) }),
      }, 413],
      ["raw body over MAX_VALUE_BYTES", {
        headers: { "content-type": "text/plain" },
        body: "x".repeat(1025),
      }, 413],
      ["body over the JSON limit", {
        headers: { "content-type": "application/json" },
        body: " ".repeat(70 * 1024),
      }, 413],
      ["invalid UTF-8", {
        headers: { "content-type": "application/json" },
        body: new Uint8Array([0x7b, 0xff, 0x7d]),
      }, 400],
    ];
    for (const [what, init, status] of bad) {
      const r = await call(node, "PUT", "/cache/keep", init);
      assert.equal(r.status, status, `${what}: ${r.body}`);
      assertJsonError(r, status);
      assert.equal(
        (await call(node, "GET", "/cache/keep")).body,
        "orig",
        `${what} changed the value`,
      );
    }
    const longKey = await putJson(node, "k".repeat(65), { value: "v" });
    assertJsonError(longKey, 414);
    assert.equal((await call(node, "GET", `/cache/${"k".repeat(64)}`)).status, 404);
  });

  await t.step(
    "keys are percent-decoded; unroutable keys are 400/404 JSON, never a crash",
    async () => {
      assert.equal((await putJson(node, "a%20b%2Fc", { value: "spaced" })).status, 200);
      assert.equal((await call(node, "GET", "/cache/a%20b%2fc")).body, "spaced");
      assert.equal((await putJson(node, "%C3%A9t%C3%A9", { value: "summer" })).status, 200);
      assert.equal((await call(node, "GET", "/cache/%C3%A9t%C3%A9")).body, "summer");
      assertJsonError(await call(node, "GET", "/cache/%E0%A4%A"), 400);
      assertJsonError(await call(node, "GET", "/cache/"), 400);
      assertJsonError(await putJson(node, "", { value: "v" }), 400);
      assertJsonError(await call(node, "GET", "/cache/a/b"), 404);
      assert.equal((await call(node, "GET", "/healthz")).status, 200);
    },
  );

  await t.step(
    "HEAD answers like GET without a body; other methods are 405 with Allow",
    async () => {
      const head = await call(node, "HEAD", "/cache/forever");
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-type"), "text/plain; charset=utf-8");
      assert.equal((await call(node, "HEAD", "/cache/nobody")).status, 404);
      // `curl -I` sees the length in bytes of the body a GET gets (the server would declare 0).
      assert.equal((await putJson(node, "wide", { value: "héllo €" })).status, 200);
      for (const path of ["/cache/wide", "/cache/wi%64e"]) {
        const out = await new Deno.Command("curl", { args: ["-sI", `${base}${path}`] }).output();
        const length = /^content-length: (\d+)\r?$/im.exec(new TextDecoder().decode(out.stdout));
        assert.equal(length?.[1], "10", path);
      }
      const got = await fetch(`${base}/cache/wide`);
      assert.equal((await got.bytes()).byteLength, 10);
      for (const method of ["POST", "PATCH"]) {
        const r = await call(node, method, "/cache/forever", { body: "x" });
        assertJsonError(r, 405);
        assert.equal(r.headers.get("allow"), "GET, HEAD, PUT, DELETE");
      }
    },
  );

  await t.step("X-Is-Sync: true writes and deletes locally", async () => {
    const put = await curl(
      "-X",
      "PUT",
      "-H",
      "X-Is-Sync: true",
      "-H",
      "Content-Type: application/json",
      "-d",
      '{"value": "local"}',
      `${base}/cache/sync`,
    );
    assert.equal(put.status, 200);
    assert.equal((await call(node, "GET", "/cache/sync")).body, "local");
    const del = await curl("-X", "DELETE", "-H", "X-Is-Sync: true", `${base}/cache/sync`);
    assert.equal(del.status, 200);
    assert.equal((await call(node, "GET", "/cache/sync")).status, 404);
  });

  await t.step("raw text/plain and octet-stream bodies with ?ttl= round-trip", async () => {
    const bytes = new Uint8Array([0, 1, 2, 255, 254]);
    const put = await call(node, "PUT", "/cache/bin?ttl=60", {
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    assert.equal(put.status, 200);
    const res = await fetch(node.url("/cache/bin"), { headers: { "x-cache-meta": "true" } });
    assert.equal(res.headers.get("content-type"), "application/octet-stream");
    assert.deepEqual(new Uint8Array(await res.arrayBuffer()), bytes);
    const binTtl = Number(res.headers.get("x-ttl-ms"));
    assert.ok(binTtl > 50_000 && binTtl <= 60_000, `x-ttl-ms ${binTtl}`);
    await call(node, "PUT", "/cache/txt", {
      headers: { "content-type": "text/plain" },
      body: "héllo",
    });
    assert.equal((await call(node, "GET", "/cache/txt")).body, "héllo");
  });

  await t.step("members, cluster view, health and readiness", async () => {
    const compat = await curl(`${base}/cache/members`);
    assert.equal(compat.status, 200);
    assert.deepEqual(JSON.parse(compat.body), [{
      name: node.env.NODE_NAME,
      addr: `127.0.0.1:${node.gossipPort}`,
      port: node.gossipPort,
      http_port: node.httpPort,
    }]);
    const cluster = JSON.parse((await call(node, "GET", "/cluster/members")).body);
    assert.equal(cluster[0].state, "alive");
    assert.equal(cluster[0].meta.http_port, node.httpPort);
    assert.deepEqual(JSON.parse((await call(node, "GET", "/healthz")).body), {
      status: "ok",
      version: denoJson.version,
    });
    assert.equal((await call(node, "GET", "/readyz")).status, 200);
    assertJsonError(await call(node, "GET", "/nowhere"), 404);
  });

  await t.step("10,000 distinct keys from 50 concurrent clients read back exactly", async () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `k-${i}-${"x".repeat(i % 17)}`);
    const value = (k: string) => `value of ${k} ${k.length}`;
    let next = 0;
    const worker = async (read: boolean) => {
      for (let i = next++; i < keys.length; i = next++) {
        const k = keys[i];
        if (read) {
          const r = await call(node, "GET", `/cache/${k}`);
          assert.deepEqual([r.status, r.body], [200, value(k)], k);
        } else {
          const r = await putJson(node, k, { value: value(k) });
          assert.equal(r.status, 200);
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, () => worker(false)));
    next = 0;
    await Promise.all(Array.from({ length: 50 }, () => worker(true)));
  });
});

Deno.test("a bad config value exits 2 with one line naming it", async () => {
  const cases: [Record<string, string>, string[], RegExp][] = [
    [{ HTTP_PORT: "eighty" }, [], /HTTP_PORT="eighty".*port/],
    [{ MAX_MEMORY: "-1" }, [], /MAX_MEMORY="-1"/],
    [{}, ["--default-ttl", "soon"], /--default-ttl="soon"/],
  ];
  for (const [env, args, pattern] of cases) {
    const node = await NodeProcess.start(env, { args, wait: false });
    const status = await node.stop("SIGCONT");
    assert.equal(status.code, 2, node.logs.join("\n"));
    const lines = node.logs.filter((l) => l.trim() !== "");
    assert.equal(lines.length, 1, lines.join("\n"));
    assert.match(lines[0], pattern);
  }
});

Deno.test("SIGTERM finishes in-flight work and exits 0", async () => {
  const node = await NodeProcess.start();
  const put = await putJson(node, "k", { value: "v" });
  assert.equal(put.status, 200);
  const status = await node.stop("SIGTERM");
  assert.equal(status.code, 0, node.logs.join("\n"));
  assert.ok(node.logs.some((l) => l.includes("shutting down")), node.logs.join("\n"));
});

function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

Deno.test("the byte budget holds under a write flood and RSS stays bounded", async () => {
  const budget = 4 * 1024 * 1024;
  await using node = await NodeProcess.start({ MAX_MEMORY: String(budget) });
  const stats = async () => (await (await fetch(node.url("/stats"))).json()).store;
  const value = "v".repeat(2000);
  const perRound = 20_000; // ~40 MB written per round, 10x the budget
  const rss: number[] = [];
  for (let round = 0; round < 3; round++) {
    let next = round * perRound;
    const end = next + perRound;
    const worker = async () => {
      for (let i = next++; i < end; i = next++) {
        const r = await putJson(node, `flood-${i}`, { value: `${i}:${value}` });
        assert.equal(r.status, 200, r.body);
        if (i % 2000 === 0) {
          const s = await stats();
          assert.ok(s.bytes <= budget, `stored ${s.bytes} bytes > budget ${budget}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    rss.push(rssBytes(node.pid));
  }
  const s = await stats();
  assert.ok(s.bytes <= budget && s.bytes > budget * 0.5, `stored ${s.bytes} of ${budget}`);
  assert.ok(s.evictions > 0, "no evictions");
  // The most recent write survives (eviction takes cold entries first).
  const lastKey = 3 * perRound - 1;
  assert.equal((await call(node, "GET", `/cache/flood-${lastKey}`)).body, `${lastKey}:${value}`);
  // 120 MB written through a 4 MiB budget: memory plateaus instead of growing with the writes.
  const mb = rss.map((b) => Math.round(b / 2 ** 20));
  console.log(`RSS after each 40 MB round: ${mb.join(", ")} MiB`);
  assert.ok(rss[2] < rss[0] + 32 * 2 ** 20, `RSS kept growing across rounds: ${mb} MiB`);
  assert.ok(rss[2] < 320 * 2 ** 20, `RSS too large: ${mb} MiB`);
});
