/**
 * What an edge worker may not do, one route per attempt: each answers 200 with the error the
 * attempt met (a `NotCapable` permission error), so you can see the sandbox from a browser.
 * `/loop`, `/hang`, `/throw` and `/allocate` show what the runtime does with a handler that
 * never returns (503 after WORKER_TIMEOUT, a fresh worker), awaits forever (503), throws (500)
 * or allocates without end (its worker is terminated past WORKER_MEMORY; the node serves on).
 *
 * Run: `WORKER=examples/forbidden/worker.ts EDGE_PORT=8787 WORKER_TIMEOUT=2s deno task run`.
 */

async function attempt(what: () => unknown): Promise<Response> {
  try {
    await what();
    return new Response("allowed\n");
  } catch (err) {
    return new Response(`${(err as Error).name}: ${(err as Error).message}\n`);
  }
}

function loop(): Response {
  // a handler that never returns
  while (true) Math.random();
}

function allocate(): Response {
  const hoard: number[][] = [];
  while (true) hoard.push(new Array(1_000_000).fill(1));
}

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/read":
        return await attempt(() => Deno.readTextFile(url.searchParams.get("path") ?? "/etc/hosts"));
      case "/read-own":
        return await attempt(() => Deno.readTextFile(new URL(import.meta.url)));
      case "/env":
        return await attempt(() => Deno.env.get("HOME"));
      case "/spawn":
        return await attempt(() => new Deno.Command("true").output());
      case "/write":
        return await attempt(() => Deno.writeTextFile("/tmp/edge-worker-was-here", "x"));
      case "/fetch":
        return await attempt(async () => {
          const res = await fetch(url.searchParams.get("url")!);
          await res.body?.cancel();
        });
      case "/loop":
        return loop();
      case "/hang":
        return await new Promise<Response>(() => {});
      case "/throw":
        throw new Error("thrown by the handler");
      case "/allocate":
        return allocate();
    }
    return new Response("ok\n");
  },
};
