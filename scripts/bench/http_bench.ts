/**
 * HTTP benchmark: GET-hit and PUT throughput and latency of a real node (started with the `run`
 * task) against a raw `Deno.serve` handler (the ceiling), measured with wrk in alternating rounds
 * in one run, reported as ratios.
 *
 * @module
 */

import { freePort, NodeProcess, waitFor } from "../../testing/mod.ts";

/** One wrk measurement. */
export interface WrkResult {
  /** Requests per second. */
  rps: number;
  /** Median latency in ms. */
  p50: number;
  /** 99th percentile latency in ms. */
  p99: number;
}

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}

/** Runs wrk against `url` for `seconds` with an optional Lua script. */
export async function wrk(url: string, seconds: number, script?: string): Promise<WrkResult> {
  const args = [
    "-t2",
    "-c64",
    `-d${seconds}s`,
    "--latency",
    ...(script ? ["-s", script] : []),
    url,
  ];
  const out = await new Deno.Command("wrk", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]);
  const p50 = toMs(/^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? "");
  const p99 = toMs(/^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? "");
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (!out.success || !Number.isFinite(rps) || errors) {
    throw new Error(`wrk failed on ${url}: ${text} ${new TextDecoder().decode(out.stderr)}`);
  }
  return { rps, p50, p99 };
}

async function startRaw(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL("raw_server.ts", import.meta.url).pathname, String(port)],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  await waitFor("raw server", async () => {
    const r = await fetch(url).catch(() => undefined);
    await r?.body?.cancel();
    return r?.ok || undefined;
  });
  return {
    url,
    async stop() {
      child.kill("SIGKILL");
      await child.status;
    },
  };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function summarize(results: WrkResult[]): WrkResult {
  return {
    rps: median(results.map((r) => r.rps)),
    p50: median(results.map((r) => r.p50)),
    p99: median(results.map((r) => r.p99)),
  };
}

/** Runs the HTTP comparison; returns markdown table rows. */
export async function httpBench(seconds: number, rounds: number): Promise<string[]> {
  const raw = await startRaw();
  const node = await NodeProcess.start({ LOG_LEVEL: "warn" });
  const putScript = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(
    putScript,
    `wrk.method = "PUT"\nwrk.headers["Content-Type"] = "application/json"\n` +
      `counter = 0\nrequest = function()\n  counter = counter + 1\n` +
      `  return wrk.format(nil, "/cache/k" .. (counter % 10000), nil, '{"value":"${
        "v".repeat(100)
      }","ttl":60}')\nend\n`,
  );
  try {
    await fetch(node.url("/cache/bench-key"), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value: "x".repeat(100) }),
    }).then((r) => r.text());
    const runs: Record<string, WrkResult[]> = { rawGet: [], nodeGet: [], rawPut: [], nodePut: [] };
    for (let i = 0; i < rounds; i++) {
      runs.rawGet.push(await wrk(`${raw.url}/cache/bench-key`, seconds));
      runs.nodeGet.push(await wrk(node.url("/cache/bench-key"), seconds));
      runs.rawPut.push(await wrk(`${raw.url}/`, seconds, putScript));
      runs.nodePut.push(await wrk(node.url("/"), seconds, putScript));
    }
    const s = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, summarize(v)]));
    const row = (name: string, ours: WrkResult, ceiling: WrkResult) =>
      `| ${name} | ${ours.rps.toFixed(0)} | ${ceiling.rps.toFixed(0)} | **${
        (ours.rps / ceiling.rps).toFixed(2)
      }** | ${ours.p50.toFixed(2)} / ${ours.p99.toFixed(2)} | ${ceiling.p50.toFixed(2)} / ${
        ceiling.p99.toFixed(2)
      } |`;
    return [
      "| operation | node req/s | raw Deno.serve req/s | ratio | node p50 / p99 ms | raw p50 / p99 ms |",
      "|---|---|---|---|---|---|",
      row("GET hit (100 B)", s.nodeGet, s.rawGet),
      row("PUT (100 B JSON)", s.nodePut, s.rawPut),
    ];
  } finally {
    await node.stop();
    await raw.stop();
    await Deno.remove(putScript);
  }
}
