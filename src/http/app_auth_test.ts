import assert from "node:assert/strict";
import { emptyDashboardState } from "../dashboard/mod.ts";
import {
  HttpReplicationTransport,
  MSGPACK_CONTENT_TYPE,
  PeerRequestError,
  StreamReplicationTransport,
} from "../replication/mod.ts";
import { systemClock } from "../util/clock.ts";
import type { CacheService, ReplicationEndpoints } from "../service/mod.ts";
import { createHandler } from "./handler.ts";
import { BearerAuth } from "./auth.ts";

const TOKEN = "app-test-token-0123456789abcdef";

/** A service that records every call that could change or reveal state. */
function recordingService() {
  const calls: string[] = [];
  const replication: ReplicationEndpoints = {
    maxMessageBytes: 1024,
    receiveBatch: (body) => {
      calls.push("receiveBatch");
      return body.subarray(0, 1);
    },
    answerSync: () => {
      calls.push("answerSync");
      return new Uint8Array([7]);
    },
    read: () => {
      calls.push("read");
      return new Uint8Array([8]);
    },
    list: () => {
      calls.push("list");
      return new Uint8Array([9]);
    },
    purge: () => {
      calls.push("purge");
      return Promise.resolve(new Uint8Array([10]));
    },
  };
  const service: CacheService = {
    limits: { maxKeyBytes: 100, maxValueBytes: 100 },
    now: () => 0,
    get: (key) => {
      calls.push(`get ${key}`);
      return { value: "v", expiresAt: 0, version: { hlc: 1, node: "n" } };
    },
    set: (key) => {
      calls.push(`set ${key}`);
      return Promise.resolve();
    },
    delete: (key) => {
      calls.push(`delete ${key}`);
      return Promise.resolve();
    },
    members: () => {
      calls.push("members");
      return [];
    },
    stats: () => {
      calls.push("stats");
      return {};
    },
    readiness: () => ({ ready: true }),
    incr: (key) => {
      calls.push(`incr ${key}`);
      return Promise.resolve(1);
    },
    list: () => {
      calls.push("list");
      return Promise.resolve({ keys: [], complete: true });
    },
    purge: () => {
      calls.push("purge");
      return Promise.resolve(0);
    },
    flush: () => {
      calls.push("flush");
      return Promise.resolve(0);
    },
    watch: () => {
      calls.push("watch");
      return () => {};
    },
    replication,
  };
  return { service, calls };
}

function serve(service: CacheService) {
  const streams = new Set<WebSocket>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHandler(service, {
      streams,
      auth: new BearerAuth({ token: TOKEN }),
      dashboard: () => Promise.resolve(emptyDashboardState("n")),
    }),
  );
  return {
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    peer: { name: "p", host: "127.0.0.1", httpPort: server.addr.port },
    async close() {
      for (const s of streams) s.close();
      await server.shutdown();
    },
  };
}

const REQUESTS: [string, string, RequestInit?][] = [
  ["GET", "/cache/k"],
  ["HEAD", "/cache/k"],
  ["GET", "/cache/k", { headers: { "x-cache-meta": "true" } }],
  ["PUT", "/cache/k", { body: '{"value":"x"}', headers: { "content-type": "application/json" } }],
  ["PUT", "/cache/k", { body: "x", headers: { "content-type": "text/plain" } }],
  ["DELETE", "/cache/k"],
  ["GET", "/cache/members"],
  ["GET", "/cluster/members"],
  ["GET", "/stats"],
  ["GET", "/dashboard/state"],
  ["POST", "/internal/replicate", {
    body: new Uint8Array([1]),
    headers: { "content-type": MSGPACK_CONTENT_TYPE },
  }],
  ["POST", "/internal/sync", {
    body: new Uint8Array([1]),
    headers: { "content-type": MSGPACK_CONTENT_TYPE },
  }],
  ...["list", "purge"].map((route): [string, string, RequestInit] => [
    "POST",
    `/internal/${route}`,
    { body: new Uint8Array([1]), headers: { "content-type": MSGPACK_CONTENT_TYPE } },
  ]),
  ["GET", "/internal/stream", { headers: { upgrade: "websocket" } }],
  ["GET", "/nope"],
];

Deno.test("createHandler with auth: missing or wrong token gets 401 and reaches nothing", async () => {
  const { service, calls } = recordingService();
  const s = serve(service);
  try {
    for (const authorization of [undefined, "Bearer wrong-token-0123456789", `Basic ${TOKEN}`]) {
      for (const [method, path, init] of REQUESTS) {
        const headers = new Headers(init?.headers);
        if (authorization) headers.set("authorization", authorization);
        const res = await fetch(s.url(path), { ...init, method, headers });
        const body = await res.text();
        assert.equal(res.status, 401, `${method} ${path} ${authorization}`);
        assert.match(res.headers.get("www-authenticate")!, /^Bearer realm="cachenode"/);
        if (method !== "HEAD") assert.match(JSON.parse(body).error, /bearer token/);
      }
    }
    assert.deepEqual(calls, [], "no refused request reached the service");
  } finally {
    await s.close();
  }
});

Deno.test("createHandler with auth: the right token passes; probes and the page stay open", async () => {
  const { service, calls } = recordingService();
  const s = serve(service);
  try {
    const authorization = `Bearer ${TOKEN}`;
    for (const [method, path, init] of REQUESTS.filter(([, p]) => p !== "/internal/stream")) {
      const headers = new Headers(init?.headers);
      headers.set("authorization", authorization);
      const res = await fetch(s.url(path), { ...init, method, headers });
      await res.body?.cancel();
      assert.equal(res.status, path === "/nope" ? 404 : 200, `${method} ${path}`);
    }
    assert.ok(calls.includes("set k") && calls.includes("delete k") && calls.includes("stats"));
    for (const path of ["/healthz", "/readyz", "/openapi.json", "/"]) {
      const res = await fetch(s.url(path));
      await res.body?.cancel();
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("set-cookie"), null);
    }
    // The page opened with ?token=... hands the browser a cookie for /dashboard/state only.
    const page = await fetch(s.url(`/?token=${TOKEN}`));
    await page.body?.cancel();
    const cookie = page.headers.get("set-cookie")!.split(";", 1)[0];
    const state = await fetch(s.url("/dashboard/state"), { headers: { cookie } });
    assert.deepEqual(await state.json(), emptyDashboardState("n"));
    const byQuery = await fetch(s.url(`/dashboard/state?token=${TOKEN}`));
    assert.equal(byQuery.status, 200);
    await byQuery.body?.cancel();
    const statsByCookie = await fetch(s.url("/stats"), { headers: { cookie } });
    assert.equal(statsByCookie.status, 401);
    await statsByCookie.body?.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("replication transports send the token; without it the peer refuses", async () => {
  const { service, calls } = recordingService();
  const s = serve(service);
  const http = new HttpReplicationTransport({ clock: systemClock, authToken: TOKEN });
  const stream = new StreamReplicationTransport({
    inner: http,
    clock: systemClock,
    authToken: TOKEN,
  });
  const bareHttp = new HttpReplicationTransport({ clock: systemClock });
  const bareStream = new StreamReplicationTransport({ inner: bareHttp, clock: systemClock });
  try {
    assert.deepEqual([...await http.request(s.peer, "sync", new Uint8Array([1]), 2000)], [7]);
    assert.deepEqual([...await stream.request(s.peer, "replicate", new Uint8Array([5]), 2000)], [
      5,
    ]);
    assert.deepEqual(calls, ["answerSync", "receiveBatch"]);
    await assert.rejects(
      bareHttp.request(s.peer, "replicate", new Uint8Array([1]), 2000),
      (e) => e instanceof PeerRequestError && e.status === 401 && !e.retryable,
    );
    await assert.rejects(
      bareStream.request(s.peer, "replicate", new Uint8Array([1]), 2000),
      (e) => e instanceof PeerRequestError && e.status === 0,
    );
    assert.deepEqual(calls, ["answerSync", "receiveBatch"], "refused requests changed nothing");
  } finally {
    stream.close();
    bareStream.close();
    await s.close();
  }
});

Deno.test("createHandler with auth: an unparsable Host header gets 401 or 400, never 500", async () => {
  const { service, calls } = recordingService();
  const s = serve(service);
  const send = async (request: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: s.peer.httpPort });
    await conn.write(new TextEncoder().encode(request.replaceAll("\n", "\r\n")));
    const buf = new Uint8Array(1024);
    const n = await conn.read(buf);
    conn.close();
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n", 1)[0];
  };
  try {
    assert.equal(
      await send("GET /dashboard/state?token=nope HTTP/1.1\nHost: a b: c\n\n"),
      "HTTP/1.1 401 Unauthorized",
    );
    assert.equal(
      await send(
        `PUT /cache/k?ttl=-5 HTTP/1.1\nHost: a b: c\nAuthorization: Bearer ${TOKEN}\nContent-Type: text/plain\nContent-Length: 1\n\nv`,
      ),
      "HTTP/1.1 400 Bad Request",
    );
    assert.deepEqual(calls, []);
  } finally {
    await s.close();
  }
});
