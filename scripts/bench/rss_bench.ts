/**
 * What an operator sees of memory (issue 15): the resident set size (VmRSS) a node grows by when
 * 1,000,000 entries (16-byte keys, 100-byte values) are written over HTTP (`POST /batch` of 1,000
 * puts), right after the load and settled (`SETTLE_MS`, 60 s; V8 gives memory back in steps,
 * so the node's RSS is printed every 10 s of it), against redis-server's growth for the same
 * data written with `redis-cli --pipe`, in one run. Both servers start empty.
 *
 * Also the peak during the load (VmHWM, the kernel's high-water mark of the process's resident
 * set) and how fast the node took the load. `--via put` writes the node's entries with one
 * `PUT` each (50 in flight) instead of batches.
 *
 * Usage: `deno run --allow-all scripts/bench/rss_bench.ts [count] [--before DIR] [--via batch|put]
 * [env-JSON...]`.
 * With env objects given (e.g. `'{"DENO_V8_FLAGS":"--optimize-for-size"}'`), the node alone is
 * measured once per object, started with those env vars added (experiments on V8's and the
 * allocator's settings); `'{}'` is the defaults. `--before DIR` names another checkout of
 * cachenode: its node and this checkout's are measured alone, in the order before, after,
 * after, before (with the env objects given, or the defaults).
 *
 * @module
 */

import { commandLineOrExit } from "../cli_flags.ts";
import * as localTesting from "../../testing/mod.ts";
import { freePort, waitFor } from "../../testing/mod.ts";

// Another checkout's testing helpers start that checkout's node.
type Testing = typeof import("../../testing/mod.ts");
import { benchKey, benchValue } from "./memory_bench.ts";

const SETTLE_MS = Number(Deno.env.get("SETTLE_MS") ?? 60_000);
// While settling, the node's RSS is also sampled this often (V8 gives memory back in steps).
const SAMPLE_MS = 10_000;

function rssBytes(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
}

/** What one node run measured, bytes (growth from empty) and seconds. */
interface NodeMemory {
  loaded: number;
  peak: number;
  settled: number;
  heapUsed: number;
  heapTotal: number;
  loadSeconds: number;
  /** RSS growth every {@link SAMPLE_MS} while settling. */
  curve: number[];
}

/** The node's V8 heap in use and reserved, bytes (from its own `/metrics`). */
async function heapOf(node: localTesting.NodeProcess): Promise<{ used: number; total: number }> {
  const text = await (await fetch(node.url("/metrics"))).text();
  const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)![1]);
  return {
    used: gauge("cache_runtime_heap_used_bytes"),
    total: gauge("cache_runtime_heap_total_bytes"),
  };
}

/** Writes the entries with `POST /batch` of 1,000 puts each. */
async function loadByBatches(base: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1000) {
    const ops = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      ops.push({ op: "put", key: benchKey(j), value: benchValue(j) });
    }
    const res = await fetch(`${base}batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ops }),
    });
    if (res.status !== 200) throw new Error(`batch: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  }
}

/** Writes the entries one `PUT` each (text/plain), 50 requests in flight. */
async function loadByPuts(base: string, count: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 50 }, async () => {
    for (let i = next++; i < count; i = next++) {
      const res = await fetch(`${base}cache/${benchKey(i)}`, {
        method: "PUT",
        headers: { "content-type": "text/plain" },
        body: benchValue(i),
      });
      if (res.status !== 200) throw new Error(`put: ${res.status} ${await res.text()}`);
      await res.body?.cancel();
    }
  }));
}

/** How the entries are written: `POST /batch` or one `PUT` each. */
type Via = "batch" | "put";

async function ours(
  count: number,
  env: Record<string, string> = {},
  testing: Testing = localTesting,
  via: Via = "batch",
): Promise<NodeMemory> {
  const node = await testing.NodeProcess.start({ LOG_LEVEL: "warn", MAX_MEMORY: "0", ...env });
  try {
    // `deno run` is the process itself (no task wrapper), so its pid is the node's.
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssBytes(node.pid);
    const heapBefore = await heapOf(node);
    const started = performance.now();
    await (via === "put" ? loadByPuts : loadByBatches)(node.url("/"), count);
    const loadSeconds = (performance.now() - started) / 1000;
    const loaded = rssBytes(node.pid) - before;
    const peak = rssBytes(node.pid, "VmHWM") - before;
    const curve = [];
    for (let waited = 0; waited < SETTLE_MS; waited += SAMPLE_MS) {
      await new Promise((r) => setTimeout(r, Math.min(SAMPLE_MS, SETTLE_MS - waited)));
      curve.push(rssBytes(node.pid) - before);
    }
    const settled = curve[curve.length - 1];
    const heap = await heapOf(node);
    return {
      loaded,
      peak,
      loadSeconds,
      curve,
      settled,
      heapUsed: heap.used - heapBefore.used,
      heapTotal: heap.total - heapBefore.total,
    };
  } finally {
    await node.stop();
  }
}

async function redis(
  count: number,
): Promise<{ loaded: number; peak: number; settled: number }> {
  const port = freePort();
  const server = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--save", "", "--appendonly", "no"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor("redis", async () => {
      const out = await new Deno.Command("redis-cli", { args: ["-p", String(port), "ping"] })
        .output();
      return new TextDecoder().decode(out.stdout).includes("PONG") || undefined;
    });
    const before = rssBytes(server.pid);
    const pipe = new Deno.Command("redis-cli", {
      args: ["-p", String(port), "--pipe"],
      stdin: "piped",
      stdout: "null",
    }).spawn();
    const writer = pipe.stdin.getWriter();
    const utf8 = new TextEncoder();
    for (let i = 0; i < count; i += 10_000) {
      let chunk = "";
      for (let j = i; j < Math.min(count, i + 10_000); j++) {
        const k = benchKey(j), v = benchValue(j);
        chunk += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
      }
      await writer.write(utf8.encode(chunk));
    }
    await writer.close();
    await pipe.status;
    const loaded = rssBytes(server.pid) - before;
    const peak = rssBytes(server.pid, "VmHWM") - before;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return { loaded, peak, settled: rssBytes(server.pid) - before };
  } finally {
    server.kill("SIGKILL");
    await server.status;
  }
}

/** Runs the comparison; returns markdown lines. */
export async function rssBench(count: number): Promise<string[]> {
  const load = Deno.loadavg()[0];
  const node = await ours(count);
  const red = await redis(count);
  const per = (bytes: number) => (bytes / count).toFixed(0);
  return [
    `${count.toLocaleString("en")} entries (16 B keys, 100 B values); load average at start ${
      load.toFixed(2)
    }; RSS growth (VmRSS) of each server process, right after the load and ${
      SETTLE_MS / 1000
    } s later.`,
    "",
    "| server | peak during the load, B/entry | after load, B/entry | settled, B/entry |",
    "| --- | --- | --- | --- |",
    `| cachenode (HTTP, \`POST /batch\`) | ${per(node.peak)} | ${per(node.loaded)} | ${
      per(node.settled)
    } |`,
    `| redis-server (\`redis-cli --pipe\`) | ${per(red.peak)} | ${per(red.loaded)} | ${
      per(red.settled)
    } |`,
    `| ratio | ${(node.peak / red.peak).toFixed(2)}× | ${
      (node.loaded / red.loaded).toFixed(2)
    }× | ${(node.settled / red.settled).toFixed(2)}× |`,
    "",
    `cachenode's V8 heap growth, settled: ${per(node.heapUsed)} B/entry in use, ${
      per(node.heapTotal)
    } B/entry reserved (its \`/metrics\`); load taken at ${
      rate(count, node)
    } entries/s; its RSS every ${SAMPLE_MS / 1000} s while settling: ${
      node.curve.map(per).join(", ")
    } B/entry.`,
  ];
}

function rate(count: number, node: NodeMemory): string {
  return Math.round(count / node.loadSeconds).toLocaleString("en");
}

function describe(label: string, count: number, m: NodeMemory): string {
  const per = (bytes: number) => (bytes / count).toFixed(0);
  return `${label}: peak ${per(m.peak)}, after load ${per(m.loaded)}, settled ${
    per(m.settled)
  } B/entry; V8 heap growth settled: used ${per(m.heapUsed)}, reserved ${
    per(m.heapTotal)
  } B/entry; ${rate(count, m)} entries/s; RSS every ${SAMPLE_MS / 1000} s while settling: ${
    m.curve.map(per).join(", ")
  } (load average ${Deno.loadavg()[0].toFixed(2)})`;
}

if (import.meta.main) {
  const { flags, positionals: args } = commandLineOrExit(
    { command: "deno run --allow-all scripts/bench/rss_bench.ts", rest: "[count] [env-JSON...]" },
    { before: "", via: "batch" },
    { positionals: true },
  );
  if (flags.via !== "batch" && flags.via !== "put") {
    console.error(`--via: expected batch or put, got ${JSON.stringify(flags.via)}`);
    Deno.exit(2);
  }
  const via = flags.via as Via;
  const count = Number(args[0] ?? 1_000_000);
  const variants = args.slice(1);
  if (flags.before) {
    const dir = await Deno.realPath(flags.before);
    const before: Testing = await import(`file://${dir}/testing/mod.ts`);
    const builds: [string, Testing][] = [["before", before], ["after", localTesting]];
    for (const [label, testing] of [...builds, ...[...builds].reverse()]) {
      for (const variant of variants.length > 0 ? variants : ["{}"]) {
        const m = await ours(count, JSON.parse(variant), testing, via);
        console.log(describe(`${label} ${variant}`, count, m));
      }
    }
  } else if (variants.length === 0) console.log((await rssBench(count)).join("\n"));
  else {
    for (const variant of variants) {
      console.log(
        describe(variant, count, await ours(count, JSON.parse(variant), localTesting, via)),
      );
    }
  }
}
