/**
 * An edge worker for cachenode: a fixed-window rate limiter shared by the whole cluster, in
 * front of a cached JSON API.
 *
 * - Every request carries `x-api-key`; each key may make `LIMIT` requests per window of
 *   `WINDOW_SECONDS` on all nodes together: `env.CACHE.incr` is decided by the counter's primary
 *   owner, so the count is exact whichever node a client talks to. Past it: 429.
 * - `GET /api/...` answers from the cache, or asks the origin (`env.ORIGIN.fetch`) once per key:
 *   the first request to miss takes a cluster-wide "fetching" ticket (again `incr`, so one node
 *   wins), the others wait for the value it stores.
 *
 * Run: `WORKER=examples/rate_limit/worker.ts ORIGIN=http://127.0.0.1:9000 EDGE_PORT=8787
 * WORKER_VARS='{"LIMIT":"100","WINDOW_SECONDS":"60"}' deno task run`.
 */

interface Env {
  CACHE: {
    get(key: string, type: "json"): Promise<unknown>;
    put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
    incr(key: string, by?: number, options?: { expirationTtl?: number }): Promise<number>;
  };
  ORIGIN: { fetch(input: string): Promise<Response> };
  LIMIT?: string;
  WINDOW_SECONDS?: string;
  API_TTL_SECONDS?: string;
}

const json = (body: unknown, status: number, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

async function cachedApi(path: string, env: Env): Promise<Response> {
  const key = `api:${path}`;
  const ttl = Number(env.API_TTL_SECONDS ?? 300);
  const hit = await env.CACHE.get(key, "json");
  if (hit !== null) return json(hit, 200, { "x-cache": "HIT" });
  // One request in the cluster fetches; the ticket expires so a failed fetch is retried later.
  if (await env.CACHE.incr(`fetching:${path}`, 1, { expirationTtl: 10 }) === 1) {
    const res = await env.ORIGIN.fetch(path);
    if (!res.ok) return json({ error: `origin answered ${res.status}` }, 502);
    const body = await res.text();
    await env.CACHE.put(key, body, { expirationTtl: ttl });
    return json(JSON.parse(body), 200, { "x-cache": "MISS" });
  }
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 20));
    const value = await env.CACHE.get(key, "json");
    if (value !== null) return json(value, 200, { "x-cache": "WAITED" });
  }
  return json({ error: "origin fetch in progress elsewhere" }, 504);
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const apiKey = request.headers.get("x-api-key");
    if (!apiKey) return json({ error: "x-api-key required" }, 401);
    const limit = Number(env.LIMIT ?? 100);
    const windowSeconds = Number(env.WINDOW_SECONDS ?? 60);
    const window = Math.floor(Date.now() / 1000 / windowSeconds);
    const count = await env.CACHE.incr(`rate:${apiKey}:${window}`, 1, {
      expirationTtl: windowSeconds * 2,
    });
    const headers = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - count)),
      "x-ratelimit-window": String(window),
    };
    if (count > limit) return json({ error: "rate limited" }, 429, headers);
    const path = new URL(request.url).pathname;
    if (path.startsWith("/api/")) {
      const res = await cachedApi(path, env);
      for (const [k, v] of Object.entries(headers)) res.headers.set(k, v);
      return res;
    }
    return json({ ok: true, count }, 200, headers);
  },
};
