/**
 * The ceiling for the HTTP benchmark: a bare `Deno.serve` handler that returns a fixed body for
 * GET and HEAD (the server sends a HEAD's headers alone, the body's length among them, as the
 * node answers a HEAD), and reads the body then answers `OK` for PUT. Usage:
 * `deno run --allow-net raw_server.ts PORT`.
 *
 * @module
 */

const port = Number(Deno.args[0] ?? 8999);
const body = "x".repeat(100);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, async (req) => {
  if (req.method === "PUT") {
    await req.arrayBuffer();
    return new Response("OK", { headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  return new Response(body, { headers: { "content-type": "text/plain; charset=utf-8" } });
});
