/**
 * HTTP benchmark, pinned so that it cannot fool itself: the server under test and its
 * competitor (a bare `Deno.serve`, `raw_server.ts`) run on core 0 (`taskset -c 0`) and wrk on
 * core 1 (`taskset -c 1 wrk -t1 -c50`; HEAD with `head_load.go`, see {@link headLoad}), so the
 * figures are the server's own cost and not a share of two cores fought over with wrk. The machine's 1-minute load average is read first
 * and printed; above {@link IDLE_LOAD} the output says the run is not idle. Competitor and node
 * run in alternating rounds in one run, and the result is their ratio: GET hit, HEAD, GET miss
 * and PUT (JSON, 100 B value) against the bare server, and PUT with `X-Write-Acks: all` on a
 * 3-node cluster (all three nodes on core 0) against the same PUT on a single node.
 *
 * Each run also reads the CPU time the server processes spent (`/proc/<pid>/stat`) and divides
 * it by the requests served: CPU µs per request, and its ratio (competitor ÷ node), is the
 * figure that other load on the machine disturbs least, so it is printed next to the
 * throughput ratio. For the replicated PUT it is also printed per process (the node that takes
 * the PUT, each replica), to tell the writer's share from the replicas'.
 *
 * @module
 */

import * as localTesting from "../../testing/mod.ts";
import { freePort, NodeProcess, waitFor } from "../../testing/mod.ts";

/** One wrk measurement. */
export interface WrkResult {
  /** Requests per second. */
  rps: number;
  /** Median latency in ms. */
  p50: number;
  /** 99th percentile latency in ms. */
  p99: number;
  /** Requests completed. */
  requests?: number;
  /** Server CPU time per request in µs (user + system of the server processes). */
  cpuUs?: number;
  /** The same, per server process (in the order of the pids measured). */
  cpuUsByProcess?: number[];
}

/** How wrk runs. */
export interface WrkOptions {
  /** wrk threads. @default 2 */
  threads?: number;
  /** Open connections. @default 64 */
  connections?: number;
  /** A `taskset -c` core list to pin wrk to. @default unpinned */
  cpus?: string;
}

/** Load average (1 min) above which a run is reported as not idle. */
export const IDLE_LOAD = 0.5;

const SERVER_CORE = "0";
const WRK_CORE = "1";
/** wrk as every pinned run uses it: 1 thread, 50 connections, on core 1. */
export const PINNED: WrkOptions = { threads: 1, connections: 50, cpus: WRK_CORE };
const KEYS = 10_000;
const VALUE = "v".repeat(100);

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
}

/**
 * Runs wrk against `url` for `seconds` with an optional Lua script. Non-2xx answers fail the
 * run unless `allowErrors` (a miss is a 404 by design).
 */
export async function wrk(
  url: string,
  seconds: number,
  script?: string,
  options: WrkOptions = {},
  allowErrors = false,
): Promise<WrkResult> {
  const wrkArgs = [
    `-t${options.threads ?? 2}`,
    `-c${options.connections ?? 64}`,
    `-d${seconds}s`,
    "--latency",
    ...(script ? ["-s", script] : []),
    url,
  ];
  const [program, ...args] = options.cpus === undefined
    ? ["wrk", ...wrkArgs]
    : ["taskset", "-c", options.cpus, "wrk", ...wrkArgs];
  const out = await new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  const result = summaryOf(text);
  const errors = !allowErrors && /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socketErrors = /Socket errors: (.*)/.exec(text);
  if (!out.success || !Number.isFinite(result.rps) || errors || socketErrors) {
    throw new Error(`wrk failed on ${url}: ${text} ${new TextDecoder().decode(out.stderr)}`);
  }
  return result;
}

/** Rate, latency percentiles and count from wrk's summary (`--latency`) or head_load's. */
function summaryOf(text: string): WrkResult {
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50: toMs(/^\s+50%\s+(\S+)/m.exec(text)?.[1] ?? ""),
    p99: toMs(/^\s+99%\s+(\S+)/m.exec(text)?.[1] ?? ""),
    requests: Number(/(\d+) requests in/.exec(text)?.[1]),
  };
}

let headLoadBinary: Promise<string> | undefined;

/** Builds `head_load.go` once per run (Go's standard library only), returns the binary's path. */
function headLoadProgram(): Promise<string> {
  headLoadBinary ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "cachenode-head-load-" });
    const binary = `${dir}/head_load`;
    const source = new URL("./head_load.go", import.meta.url).pathname;
    const out = await new Deno.Command("go", {
      args: ["build", "-o", binary, source],
      env: { GO111MODULE: "off", GOCACHE: `${dir}/cache` },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`go build head_load.go: ${new TextDecoder().decode(out.stderr)}`);
    }
    return binary;
  })();
  return headLoadBinary;
}

/**
 * `HEAD url` for `seconds` over `options.connections` connections, with `head_load.go` (wrk
 * waits for the body a HEAD answer declares, see that file), pinned like wrk; the same result.
 */
export async function headLoad(
  url: string,
  seconds: number,
  options: WrkOptions = {},
): Promise<WrkResult> {
  const { host, pathname, search } = new URL(url);
  const loadArgs = [
    "-addr",
    host,
    "-path",
    pathname + search,
    "-c",
    String(options.connections ?? 64),
    "-d",
    `${seconds}s`,
  ];
  const binary = await headLoadProgram();
  const [program, ...args] = options.cpus === undefined
    ? [binary, ...loadArgs]
    : ["taskset", "-c", options.cpus, binary, ...loadArgs];
  const out = await new Deno.Command(program, {
    args,
    // One thread of Go's scheduler, as wrk runs one thread here.
    env: { GOMAXPROCS: String(options.threads ?? 1) },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const result = summaryOf(text);
  if (!out.success || !Number.isFinite(result.rps) || /Non-2xx or 3xx/.test(text)) {
    throw new Error(`head_load failed on ${url}: ${text} ${new TextDecoder().decode(out.stderr)}`);
  }
  return result;
}

const TICKS_PER_SECOND = 100;

/** User + system CPU seconds used so far by each of the processes `pids` (Linux `/proc`). */
export function cpuSeconds(pids: number[]): number[] {
  return pids.map((pid) => {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
  });
}

/** {@link wrk}, with the CPU time the server processes `pids` spent per request. */
export async function measured(
  pids: number[],
  run: () => Promise<WrkResult>,
): Promise<WrkResult> {
  const before = cpuSeconds(pids);
  const result = await run();
  const perRequest = cpuSeconds(pids).map((s, i) =>
    ((s - before[i]) * 1e6) / (result.requests ?? NaN)
  );
  return {
    ...result,
    cpuUs: perRequest.reduce((a, b) => a + b, 0),
    cpuUsByProcess: perRequest,
  };
}

/** Starts `raw_server.ts` pinned to the server core (the bare `Deno.serve` ceiling). */
export async function startRaw(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = freePort();
  const child = new Deno.Command("taskset", {
    args: [
      "-c",
      SERVER_CORE,
      Deno.execPath(),
      "run",
      "--allow-net",
      new URL("raw_server.ts", import.meta.url).pathname,
      String(port),
    ],
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
    pid: child.pid,
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
    cpuUs: median(results.map((r) => r.cpuUs ?? NaN)),
  };
}

/** Writes `text` to a temporary `.lua` file for wrk; returns its path (the caller removes it). */
export async function luaScript(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ suffix: ".lua" });
  await Deno.writeTextFile(path, text);
  return path;
}

/** A PUT of `{"value": <100 B>, "ttl": 60}` to one of {@link KEYS} keys in turn. */
export function putLua(extraHeaders: Record<string, string> = {}): string {
  const headers = Object.entries(extraHeaders)
    .map(([k, v]) => `wrk.headers["${k}"] = "${v}"\n`).join("");
  return `wrk.method = "PUT"\nwrk.headers["Content-Type"] = "application/json"\n${headers}` +
    `counter = 0\nrequest = function()\n  counter = counter + 1\n` +
    `  return wrk.format(nil, "/cache/k" .. (counter % ${KEYS}), nil, '{"value":"${VALUE}","ttl":60}')\nend\n`;
}

/** Writes the {@link KEYS} keys of 100 B the GET, HEAD and PUT runs use. */
export async function load(node: NodeProcess): Promise<void> {
  for (let i = 0; i < KEYS; i += 100) {
    await Promise.all(Array.from({ length: 100 }, async (_, j) => {
      const r = await fetch(node.url(`/cache/k${i + j}`), {
        method: "PUT",
        headers: { "content-type": "text/plain" },
        body: VALUE,
      });
      await r.body?.cancel();
    }));
  }
}

/**
 * Starts a 3-node cluster pinned to the server core; resolves once all see 3 alive. `testing` is
 * the testing helpers of the checkout whose nodes run (another checkout's for before/after runs).
 */
export async function startPinnedCluster(
  testing: typeof localTesting = localTesting,
): Promise<NodeProcess[]> {
  const { clusterEnv, freePort, NodeProcess, waitFor } = testing;
  const seed = freePort();
  const env = (i: number) => clusterEnv("bench-http", i, seed, { LOG_LEVEL: "warn" });
  const nodes = [await NodeProcess.start(env(0), { cpus: SERVER_CORE })];
  try {
    for (let i = 1; i < 3; i++) nodes.push(await NodeProcess.start(env(i), { cpus: SERVER_CORE }));
    await waitFor("3 nodes alive on every node", async () => {
      const views = await Promise.all(nodes.map(async (n) => {
        const r = await fetch(n.url("/cluster/members"));
        return (await r.json()) as { state: string }[];
      }));
      return views.every((v) => v.filter((m) => m.state === "alive").length === 3) || undefined;
    }, 30_000);
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop()));
    throw err;
  }
  return nodes;
}

function range(results: WrkResult[]): string {
  const rps = results.map((r) => r.rps);
  return `${(Math.min(...rps) / 1000).toFixed(1)}–${(Math.max(...rps) / 1000).toFixed(1)}k`;
}

/**
 * Runs the pinned HTTP comparison: `rounds` alternating rounds of `seconds` each. Returns
 * markdown lines (load average, table with ratios, per-round ranges).
 */
export async function httpBench(seconds: number, rounds: number): Promise<string[]> {
  const loadAvg = Deno.loadavg()[0];
  const idle = loadAvg <= IDLE_LOAD;
  const verdict = idle
    ? `idle (load average ${loadAvg.toFixed(2)} <= ${IDLE_LOAD})`
    : `NOT IDLE: load average ${loadAvg.toFixed(2)} > ${IDLE_LOAD}; these figures are noisy`;
  console.error(`http bench: machine ${verdict}`);
  const raw = await startRaw();
  const node = await NodeProcess.start({ LOG_LEVEL: "warn" }, { cpus: SERVER_CORE });
  const cluster = await startPinnedCluster();
  const scripts = {
    put: await luaScript(putLua()),
    putAll: await luaScript(putLua({ "X-Write-Acks": "all" })),
  };
  try {
    await load(node);
    // The cluster gets the same keys (replicated): the same warm-up as the single node it is
    // compared with, or its first round measures the JIT compiling the replication path.
    await load(cluster[0]);
    const hit = "/cache/k42", miss = "/cache/no-such-key";
    type Case = { name: string; run: () => Promise<WrkResult> };
    const pidOf = (url: string) =>
      url.startsWith(`${raw.url}/`)
        ? [raw.pid]
        : url.startsWith(cluster[0].url("/"))
        ? cluster.map((n) => n.pid)
        : [node.pid];
    const w = (url: string, script?: string, allowErrors = false) => () =>
      measured(pidOf(url), () => wrk(url, seconds, script, PINNED, allowErrors));
    const h = (url: string) => () => measured(pidOf(url), () => headLoad(url, seconds, PINNED));
    const pairs: { name: string; ours: Case; theirs: Case; against: string }[] = [
      {
        name: "GET hit (100 B)",
        ours: { name: "node", run: w(node.url(hit)) },
        theirs: { name: "raw", run: w(`${raw.url}${hit}`) },
        against: "bare Deno.serve GET",
      },
      {
        name: "HEAD hit",
        ours: { name: "node", run: h(node.url(hit)) },
        theirs: { name: "raw", run: h(`${raw.url}${hit}`) },
        against: "bare Deno.serve HEAD",
      },
      {
        name: "GET miss (404)",
        ours: { name: "node", run: w(node.url(miss), undefined, true) },
        theirs: { name: "raw", run: w(`${raw.url}${miss}`) },
        against: "bare Deno.serve GET",
      },
      {
        name: "PUT (JSON, 100 B value)",
        ours: { name: "node", run: w(node.url("/"), scripts.put) },
        theirs: { name: "raw", run: w(`${raw.url}/`, scripts.put) },
        against: "bare Deno.serve reading the body",
      },
      {
        name: "PUT, X-Write-Acks: all, 3 nodes",
        ours: { name: "cluster", run: w(cluster[0].url("/"), scripts.putAll) },
        theirs: { name: "single", run: w(node.url("/"), scripts.put) },
        against: "the same PUT on a single node",
      },
    ];
    const results = pairs.map(() => ({ ours: [] as WrkResult[], theirs: [] as WrkResult[] }));
    for (let r = 0; r < rounds; r++) {
      for (const [i, pair] of pairs.entries()) {
        results[i].theirs.push(await pair.theirs.run());
        results[i].ours.push(await pair.ours.run());
        console.error(
          `round ${r + 1} ${pair.name}: ${results[i].ours.at(-1)!.rps.toFixed(0)} vs ${
            results[i].theirs.at(-1)!.rps.toFixed(0)
          }`,
        );
      }
    }
    const endLoad = Deno.loadavg()[0];
    const lines = [
      `Machine at start: ${verdict}. Load average (1 min) at the end: ${endLoad.toFixed(2)}.`,
      `Server and competitor pinned to core ${SERVER_CORE} (\`taskset -c ${SERVER_CORE}\`), wrk to core ${WRK_CORE} (\`taskset -c ${WRK_CORE} wrk -t1 -c50 -d${seconds}s\`; HEAD: \`head_load.go\`, 50 connections, as wrk cannot read a HEAD answer that declares its length); ${rounds} alternating rounds, medians; ${KEYS} keys of 100 B loaded; the 3 cluster nodes all on core ${SERVER_CORE}. Ratios: median of the per-round ratios. CPU µs/req: user + system time of the server process(es) over the run ÷ requests served; its ratio is competitor ÷ node (1.00 = as cheap as the competitor).`,
      "",
      "| operation | node req/s (rounds) | competitor req/s (rounds) | ratio (per round) | node p50 / p99 ms | competitor p50 / p99 ms | CPU µs/req node / competitor (ratio) | competitor |",
      "|---|---|---|---|---|---|---|---|",
    ];
    for (const [i, pair] of pairs.entries()) {
      const ours = summarize(results[i].ours), theirs = summarize(results[i].theirs);
      // A ratio per round (its two runs are next to each other in time), then their median:
      // load that comes and goes during the run disturbs one round, not every ratio.
      const perRound = results[i].ours.map((o, r) => o.rps / results[i].theirs[r].rps);
      const cpuPerRound = results[i].ours.map((o, r) => results[i].theirs[r].cpuUs! / o.cpuUs!);
      lines.push(
        `| ${pair.name} | ${ours.rps.toFixed(0)} (${range(results[i].ours)}) | ${
          theirs.rps.toFixed(0)
        } (${range(results[i].theirs)}) | **${median(perRound).toFixed(2)}×** (${
          perRound.map((x) => x.toFixed(2)).join(", ")
        }) | ${ours.p50.toFixed(2)} / ${ours.p99.toFixed(2)} | ${theirs.p50.toFixed(2)} / ${
          theirs.p99.toFixed(2)
        } | ${ours.cpuUs!.toFixed(1)} / ${theirs.cpuUs!.toFixed(1)} (**${
          median(cpuPerRound).toFixed(2)
        }×**) | ${pair.against} |`,
      );
    }
    // Where a replicated write's CPU goes: the node that took the PUT, and each replica.
    const replicated = results[pairs.length - 1].ours;
    const byProcess = cluster.map((_, p) =>
      median(replicated.map((r) => r.cpuUsByProcess?.[p] ?? NaN)).toFixed(1)
    );
    lines.push(
      "",
      `Replicated PUT, CPU µs per write by process (medians): node 0 (takes the PUT) ${
        byProcess[0]
      }, replicas ${byProcess.slice(1).join(" and ")}.`,
    );
    if (!idle) lines.push("", `**Not idle** (load average ${loadAvg.toFixed(2)}): noisy figures.`);
    return lines;
  } finally {
    await Promise.all([node.stop(), raw.stop(), ...cluster.map((n) => n.stop())]);
    for (const s of Object.values(scripts)) await Deno.remove(s);
  }
}
