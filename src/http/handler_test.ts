/**
 * The fast path answers like the Hono app: a table of `GET` and `PUT /cache/{key}` requests
 * (plain, conditional, with metadata and tags, strict input), without and with a bearer token (missing, wrong, right), each run through
 * `createHandler` (fast path) and through the Hono app alone against identical fresh nodes; the
 * status, every header, the body bytes and the node's store afterwards must be equal. Each
 * request is also given to `fastPath` directly, which must answer it (not pass it on), so the
 * comparison is never Hono against itself.
 *
 * Over 400 lines: the table is the test, and reads best as one list.
 */

import assert from "node:assert/strict";
import { type CacheService, etagOf } from "../service/mod.ts";
import { createApp } from "./app.ts";
import { BearerAuth } from "./auth.ts";
import { CacheRoutes } from "./cache_routes.ts";
import { errorResponse } from "./errors.ts";
import { createHandler, fastPath } from "./handler.ts";
import { startTestNode, type TestNode } from "../../testing/mod.ts";

const TOKEN = "handler-test-token-0123456789";
const LIMITS = { maxKeyBytes: 8, maxValueBytes: 16 };

/** A request of the table (a fresh `Request` is built for each run: bodies are read once). */
interface Case {
  name: string;
  method: "GET" | "HEAD" | "PUT";
  path: string;
  headers?: Record<string, string>;
  body?: BodyInit;
}

const TEXT = { "content-type": "text/plain" };
/** Stands for the current entity tag of key `k` in a header (filled in per run). */
const ETAG_K = "<etag of k>";
const JSON_BODY = { "content-type": "application/json" };
const OCTET = { "content-type": "application/octet-stream" };

const CASES: Case[] = [
  { name: "GET hit", method: "GET", path: "/cache/k" },
  { name: "GET binary hit", method: "GET", path: "/cache/bin" },
  { name: "GET miss", method: "GET", path: "/cache/nope" },
  { name: "HEAD hit", method: "HEAD", path: "/cache/k" },
  { name: "HEAD binary hit", method: "HEAD", path: "/cache/bin" },
  { name: "HEAD miss", method: "HEAD", path: "/cache/nope" },
  { name: "HEAD malformed %", method: "HEAD", path: "/cache/%E0%A4%A" },
  { name: "HEAD key too long", method: "HEAD", path: "/cache/123456789" },
  {
    name: "HEAD If-None-Match current",
    method: "HEAD",
    path: "/cache/k",
    headers: { "if-none-match": ETAG_K },
  },
  {
    name: "HEAD with X-Cache-Meta",
    method: "HEAD",
    path: "/cache/k",
    headers: { "x-cache-meta": "true" },
  },
  { name: "GET with a query string", method: "GET", path: "/cache/k?x=1&ttl=3" },
  { name: "GET of a percent-encoded key", method: "GET", path: "/cache/a%20b" },
  { name: "GET malformed %", method: "GET", path: "/cache/%E0%A4%A" },
  { name: "GET key too long", method: "GET", path: "/cache/123456789" },
  {
    name: "GET multi-byte key too long",
    method: "GET",
    path: "/cache/%C3%A9%C3%A9%C3%A9%C3%A9%C3%A9",
  },
  {
    name: "PUT JSON (duration)",
    method: "PUT",
    path: "/cache/k",
    headers: JSON_BODY,
    body: `{"value":"new","duration":"5000000000"}`,
  },
  {
    name: "PUT JSON (ttl)",
    method: "PUT",
    path: "/cache/j",
    headers: JSON_BODY,
    body: `{"value":"é","ttl":2.5}`,
  },
  { name: "PUT text with ?ttl=", method: "PUT", path: "/cache/t?ttl=2", headers: TEXT, body: "hi" },
  {
    name: "PUT binary",
    method: "PUT",
    path: "/cache/a%20b",
    headers: OCTET,
    body: new Uint8Array([0, 255, 7]),
  },
  {
    name: "PUT key named members",
    method: "PUT",
    path: "/cache/members",
    headers: TEXT,
    body: "m",
  },
  {
    name: "PUT local (X-Is-Sync)",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "x-is-sync": "true" },
    body: "l",
  },
  {
    name: "PUT X-Write-Acks: 1",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "x-write-acks": "1" },
    body: "a",
  },
  {
    name: "PUT bad X-Write-Acks",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "x-write-acks": "0" },
    body: "a",
  },
  { name: "PUT bad JSON", method: "PUT", path: "/cache/k", headers: JSON_BODY, body: "{" },
  {
    name: "PUT JSON without value",
    method: "PUT",
    path: "/cache/k",
    headers: JSON_BODY,
    body: "{}",
  },
  {
    name: "PUT JSON value too large",
    method: "PUT",
    path: "/cache/k",
    headers: JSON_BODY,
    body: JSON.stringify({ value: "x".repeat(17) }),
  },
  {
    name: "PUT body too large",
    method: "PUT",
    path: "/cache/k",
    headers: TEXT,
    body: "y".repeat(17),
  },
  {
    name: "PUT body too large (declared)",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "content-length": "17" },
    body: "y".repeat(17),
  },
  { name: "PUT bad ttl", method: "PUT", path: "/cache/k?ttl=abc", headers: TEXT, body: "v" },
  {
    name: "PUT unsupported type",
    method: "PUT",
    path: "/cache/k",
    headers: { "content-type": "text/csv" },
    body: "v",
  },
  { name: "PUT without a type", method: "PUT", path: "/cache/k", body: "v" },
  { name: "PUT malformed %", method: "PUT", path: "/cache/%zz", headers: TEXT, body: "v" },
  { name: "PUT key too long", method: "PUT", path: "/cache/123456789", headers: TEXT, body: "v" },
  // Issue 17: conditional requests, metadata, tags, strict input.
  {
    name: "GET If-None-Match current",
    method: "GET",
    path: "/cache/k",
    headers: { "if-none-match": ETAG_K },
  },
  {
    name: "GET If-None-Match *",
    method: "GET",
    path: "/cache/k",
    headers: { "if-none-match": "*" },
  },
  {
    name: "GET If-None-Match other",
    method: "GET",
    path: "/cache/k",
    headers: { "if-none-match": `"1-x"` },
  },
  {
    name: "GET If-None-Match miss",
    method: "GET",
    path: "/cache/nope",
    headers: { "if-none-match": "*" },
  },
  {
    name: "PUT If-Match current",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "if-match": ETAG_K },
    body: "c",
  },
  {
    name: "PUT If-Match stale",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "if-match": `"1-x"` },
    body: "c",
  },
  {
    name: "PUT If-Match not ours",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "if-match": `"nope"` },
    body: "c",
  },
  {
    name: "PUT If-Match *",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "if-match": "*" },
    body: "c",
  },
  {
    name: "PUT If-Match * of a miss",
    method: "PUT",
    path: "/cache/new",
    headers: { ...TEXT, "if-match": "*" },
    body: "c",
  },
  {
    name: "PUT If-None-Match *",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "if-none-match": "*" },
    body: "c",
  },
  {
    name: "PUT If-None-Match tag",
    method: "PUT",
    path: "/cache/k",
    headers: { ...TEXT, "if-none-match": ETAG_K },
    body: "c",
  },
  {
    name: "PUT JSON metadata and tags",
    method: "PUT",
    path: "/cache/m",
    headers: JSON_BODY,
    body: `{"value":"v","metadata":{"a":1},"tags":["t"]}`,
  },
  {
    name: "PUT JSON metadata too large",
    method: "PUT",
    path: "/cache/m",
    headers: JSON_BODY,
    body: JSON.stringify({ value: "v", metadata: { a: "x".repeat(1100) } }),
  },
  {
    name: "PUT Cache-Tag",
    method: "PUT",
    path: "/cache/m",
    headers: { ...TEXT, "cache-tag": "a,b" },
    body: "v",
  },
  {
    name: "PUT X-Cache-Metadata",
    method: "PUT",
    path: "/cache/m",
    headers: { ...OCTET, "x-cache-metadata": `{"b":2}` },
    body: "v",
  },
  {
    name: "PUT JSON unknown field",
    method: "PUT",
    path: "/cache/k",
    headers: JSON_BODY,
    body: `{"value":"x","expire":10}`,
  },
  {
    name: "PUT JSON with ?ttl=",
    method: "PUT",
    path: "/cache/k?ttl=3",
    headers: JSON_BODY,
    body: `{"value":"x"}`,
  },
  {
    name: "PUT JSON TTL twice",
    method: "PUT",
    path: "/cache/k?ttl=3",
    headers: JSON_BODY,
    body: `{"value":"x","ttl":1}`,
  },
  {
    name: "PUT JSON bad ?ttl=",
    method: "PUT",
    path: "/cache/k?ttl=abc",
    headers: JSON_BODY,
    body: `{"value":"x"}`,
  },
  {
    name: "PUT JSON base64",
    method: "PUT",
    path: "/cache/k",
    headers: JSON_BODY,
    body: `{"value":"AAE=","encoding":"base64"}`,
  },
];

/** How a run authenticates: no `BearerAuth` at all, or one with the token missing/wrong/right. */
const AUTH_MODES: [string, BearerAuth | undefined, Record<string, string>][] = [
  ["no auth", undefined, {}],
  ["token missing", new BearerAuth({ token: TOKEN }), {}],
  ["token wrong", new BearerAuth({ token: TOKEN }), { authorization: `Bearer ${TOKEN}x` }],
  ["token right", new BearerAuth({ token: TOKEN }), { authorization: `Bearer ${TOKEN}` }],
];

function requestOf(c: Case, auth: Record<string, string>, etagK = ""): Request {
  const headers = Object.fromEntries(
    Object.entries(c.headers ?? {}).map(([k, v]) => [k, v === ETAG_K ? etagK : v]),
  );
  return new Request(`http://node${c.path}`, {
    method: c.method,
    headers: { ...headers, ...auth },
    body: c.body,
  });
}

/** The entity tag of `k` on a seeded node (the same on every one: same writes, same times). */
const etagK = (t: TestNode) => etagOf(t.node.get("k")!.version);

/** A fresh node holding the same entries, written at the same virtual times, as every other. */
async function seededNode(): Promise<TestNode> {
  const t = await startTestNode(LIMITS);
  await t.node.set("k", "v", { ttlMs: 10_000 });
  await t.node.set("a b", new Uint8Array([1, 2, 3]));
  await t.node.set("bin", new Uint8Array([9, 8]));
  await t.node.set("members", "mv");
  t.clock.advance(1234);
  return t;
}

interface Outcome {
  status: number;
  headers: [string, string][];
  body: Uint8Array;
  /** The store afterwards: entries, counters and the digest of every record's version. */
  store: unknown;
}

async function outcome(res: Response, service: CacheService): Promise<Outcome> {
  return {
    status: res.status,
    headers: [...res.headers],
    body: new Uint8Array(await res.arrayBuffer()),
    store: service.stats().store,
  };
}

Deno.test("the fast path answers every request of the table like the Hono app", async () => {
  let compared = 0;
  for (const [mode, auth, authHeaders] of AUTH_MODES) {
    for (const c of CASES) {
      const label = `${c.name} (${mode})`;
      await using fast = await seededNode();
      await using hono = await seededNode();
      const tag = etagK(fast);
      assert.equal(tag, etagK(hono));
      const viaHandler = await createHandler(fast.node, { auth })(requestOf(c, authHeaders, tag));
      const viaApp = await createApp(hono.node, { auth }).fetch(requestOf(c, authHeaders, tag));
      const a = await outcome(viaHandler, fast.node);
      const b = await outcome(viaApp, hono.node);
      assert.deepEqual(a, b, label);
      if (auth && mode !== "token right") assert.equal(a.status, 401, label);
      compared++;
    }
  }
  assert.equal(compared, CASES.length * AUTH_MODES.length);
});

Deno.test("fastPath answers every request of the table itself (none goes on to Hono)", async () => {
  for (const [mode, auth, authHeaders] of AUTH_MODES) {
    for (const c of CASES) {
      await using t = await seededNode();
      const fast = fastPath(new CacheRoutes(t.node, 0), LIMITS.maxKeyBytes, auth);
      let answer: Response | Promise<Response> | undefined;
      try {
        answer = fast(requestOf(c, authHeaders, etagK(t)));
      } catch (err) {
        answer = errorResponse(err); // thrown synchronously (bad key): still answered here
      }
      assert.notEqual(answer, undefined, `${c.name} (${mode})`);
      await using other = await seededNode();
      const viaHandler = await createHandler(other.node, { auth })(
        requestOf(c, authHeaders, etagK(other)),
      );
      const res = await Promise.resolve(answer!).catch(errorResponse);
      assert.equal(res.status, viaHandler.status, `${c.name} (${mode})`);
      await res.body?.cancel();
      await viaHandler.body?.cancel();
    }
  }
});

Deno.test("fastPath leaves everything but plain GET, HEAD and PUT /cache/{key} to the app", async () => {
  await using t = await seededNode();
  const fast = fastPath(new CacheRoutes(t.node, 0), LIMITS.maxKeyBytes, undefined);
  const passed: [string, string, Record<string, string>?][] = [
    ["DELETE", "/cache/k"],
    ["HEAD", "/cache/members"],
    ["HEAD", "/cache/a/b"],
    ["POST", "/cache/k"],
    ["GET", "/cache/k", { "x-cache-meta": "true" }],
    ["GET", "/cache/k", { "x-cache-meta": "false" }],
    ["GET", "/cache/members"],
    ["GET", "/cache/a/b"],
    ["PUT", "/cache/a/b"],
    ["GET", "/cache/"],
    ["PUT", "/cache/?ttl=1"],
    ["GET", "/cache"],
    ["GET", "/stats"],
    ["GET", "/cachex/k"],
    ["GET", "/x/cache/k"],
  ];
  for (const [method, path, headers] of passed) {
    const req = new Request(`http://node${path}`, { method, headers });
    assert.equal(fast(req), undefined, `${method} ${path}`);
  }
});

Deno.test("GET /cache/m%65mbers answers alike through the fast path and the app", async () => {
  // The compat member list shadows the key "members" for GET, however the path spells it.
  await using fast = await seededNode();
  await using hono = await seededNode();
  const req = () => new Request("http://node/cache/m%65mbers");
  const a = await outcome(await createHandler(fast.node)(req()), fast.node);
  const b = await outcome(await createApp(hono.node).fetch(req()), hono.node);
  assert.deepEqual(a, b);
  const listed = await createHandler(fast.node)(req());
  assert.equal((await listed.json())[0].name, "test-node");
});
