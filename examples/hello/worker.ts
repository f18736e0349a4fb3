/**
 * The smallest edge worker, also the one `deno task bench workers` measures: `/` answers a fixed
 * 100-byte text, `/kv/<key>` answers the value of `<key>` in `env.CACHE` (404 when missing).
 *
 * Run: `WORKER=examples/hello/worker.ts EDGE_PORT=8787 deno task run`.
 */

interface Env {
  CACHE: { get(key: string): Promise<string | null> };
}

const HELLO = "x".repeat(100);

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (!path.startsWith("/kv/")) {
      return new Response(HELLO, { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    const value = await env.CACHE.get(decodeURIComponent(path.slice(4)));
    return value === null
      ? new Response("not found\n", { status: 404 })
      : new Response(value, { headers: { "content-type": "text/plain; charset=utf-8" } });
  },
};
