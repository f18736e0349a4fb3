/**
 * The origin of the edge benchmark: a bare `Deno.serve` answering every path with a fixed
 * 100-byte body and `Cache-Control: max-age=3600` (so the edge, nginx and Varnish all cache
 * it), after `DELAY_MS` (so a thundering herd arrives while the first fetch is under way), and
 * counting requests per path: `GET /__count?path=/x` answers how many `/x` got. Usage:
 * `deno run --allow-net edge_origin.ts PORT [DELAY_MS]`.
 *
 * @module
 */

const port = Number(Deno.args[0] ?? 8998);
const delayMs = Number(Deno.args[1] ?? 50);
const body = "x".repeat(100);
const counts = new Map<string, number>();
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
  const url = new URL(req.url);
  if (url.pathname === "/__count") {
    return new Response(String(counts.get(url.searchParams.get("path") ?? "") ?? 0));
  }
  counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1);
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  return new Response(body, {
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "max-age=3600" },
  });
});
