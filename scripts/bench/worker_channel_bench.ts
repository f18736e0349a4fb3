/**
 * In-process microbenchmark of the host ↔ worker channel of the edge workers (issue 21): round
 * trips of a request-shaped message and a response-shaped answer (100-byte body) between the
 * main thread and one Deno worker, by `postMessage` frames (the messages of one run of
 * microtasks in one message, as `src/workers/` does), by the shared-memory ring of `_ring.ts`
 * with `Atomics.waitAsync` on both sides, and by that ring with the worker blocking in
 * `Atomics.wait` while idle; one and 50 round trips in flight. Then the bare wake-up, no payload:
 * a worker answering a `postMessage`, a notify it awaits with `Atomics.waitAsync`, or one it
 * blocks on with `Atomics.wait`. Alternating rounds, medians; CPU time of the whole process (both
 * threads) per round trip from `process.cpuUsage()`. Run it pinned to one core, as the node runs
 * in `deno task bench workers`:
 * `taskset -c 0 deno run --allow-all scripts/bench/worker_channel_bench.ts [--quick]`.
 * Figures: docs/benchmarks.md.
 *
 * @module
 */

import process from "node:process";
import { ringFactory } from "./_ring.ts";

const HEADERS = [
  "host",
  "127.0.0.1:8787",
  "user-agent",
  "wrk",
  "accept",
  "*/*",
];

// The worker: answers each request message with a response message, over either channel.
function echoWorker(): void {
  const kit = (globalThis as unknown as { ringFactory: () => import("./_ring.ts").RingKit })
    .ringFactory();
  const body = new Uint8Array(100).fill(120);
  const answer = (
    m: unknown[],
  ) => [1, m[1], 200, ["content-type", "text/plain"], body.slice().buffer];
  const scope = self as unknown as {
    postMessage(message: unknown, transfer?: Transferable[]): void;
    onmessage: ((event: MessageEvent) => void) | null;
  };
  let outbox: unknown[] = [];
  let transfers: Transferable[] = [];
  const flush = () => {
    scope.postMessage(outbox, transfers);
    outbox = [];
    transfers = [];
  };
  scope.onmessage = (event) => {
    const data = event.data;
    if (data.ring) {
      const out = kit.writer(data.toHost, data.block);
      let pending = 0;
      const idle = () => {
        if (pending > 0) return;
        if (!data.block) return out.wake();
        if (!input.block(50, 0, out.wake)) setTimeout(idle, 0);
      };
      const input = kit.reader(data.toWorker, (m) => {
        pending++;
        Promise.resolve().then(() => {
          out.write(answer(m));
          if (--pending === 0) queueMicrotask(idle);
        });
      });
      input.start();
      return;
    }
    for (const m of data as unknown[][]) {
      Promise.resolve().then(() => {
        const a = answer(m);
        if (outbox.length === 0) queueMicrotask(flush);
        outbox.push(a);
        transfers.push(a[4] as ArrayBuffer);
      });
    }
  };
}

const MODES = ["postMessage", "ring", "ring+block"] as const;
type Mode = typeof MODES[number];

interface Channel {
  send(message: unknown[]): void;
  close(): void;
}

function startWorker(mode: Mode, onAnswer: (m: unknown[]) => void): Channel {
  const source =
    `globalThis.ringFactory = ${ringFactory.toString()};\n(${echoWorker.toString()})();`;
  const url = URL.createObjectURL(new Blob([source], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  if (mode !== "postMessage") {
    const kit = ringFactory();
    const toWorker = kit.create(1 << 20), toHost = kit.create(1 << 20);
    worker.postMessage({ ring: true, block: mode === "ring+block", toWorker, toHost });
    const out = kit.writer(toWorker);
    const input = kit.reader(toHost, onAnswer);
    input.start();
    return {
      send: (m) => {
        if (!out.write(m)) throw new Error("ring full");
      },
      close: () => {
        input.close();
        worker.terminate();
      },
    };
  }
  let outbox: unknown[] = [];
  worker.onmessage = (e) => {
    for (const m of e.data) onAnswer(m);
  };
  return {
    send: (m) => {
      if (outbox.length === 0) {
        queueMicrotask(() => {
          worker.postMessage(outbox);
          outbox = [];
        });
      }
      outbox.push(m);
    },
    close: () => worker.terminate(),
  };
}

/** Runs `count` round trips with `inFlight` outstanding; returns [round trips/s, CPU µs each]. */
async function run(mode: Mode, count: number, inFlight: number): Promise<[number, number]> {
  let done = 0, sent = 0;
  const finished = Promise.withResolvers<void>();
  let channel: Channel | undefined = undefined;
  const send = () => {
    const id = sent++;
    channel!.send([1, id, "GET", "http://127.0.0.1:8787/", HEADERS, null]);
  };
  channel = startWorker(mode, () => {
    if (++done === count) finished.resolve();
    else if (sent < count) send();
  });
  // Warm-up is part of the first round; the worker's start is outside the timed part.
  await new Promise((r) => setTimeout(r, 100));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < inFlight; i++) send();
  await finished.promise;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  channel.close();
  return [count / seconds, (cpu.user + cpu.system) / count];
}

// The bare wake-up, no payload, one round trip at a time: the worker answers a postMessage, or
// a notify on a shared word while it waits with Atomics.waitAsync (its event loop parked), or
// while it blocks in Atomics.wait (its thread parked, the event loop not involved).
const WAKE_MODES = ["postMessage", "waitAsync", "Atomics.wait"] as const;
const PONG = `self.onmessage = (e) => {
  if (typeof e.data !== "object") return self.postMessage(e.data);
  const i32 = new Int32Array(e.data.sab);
  let seen = 0;
  const answer = () => {
    seen = Atomics.load(i32, 0);
    Atomics.store(i32, 1, seen);
    Atomics.notify(i32, 1);
  };
  if (e.data.block) for (;;) { Atomics.wait(i32, 0, seen); answer(); }
  (async () => {
    for (;;) {
      const w = Atomics.waitAsync(i32, 0, seen);
      if (w.async) await w.value;
      answer();
    }
  })();
};`;

async function wakeRun(mode: typeof WAKE_MODES[number], count: number): Promise<[number, number]> {
  const url = URL.createObjectURL(new Blob([PONG], { type: "application/javascript" }));
  const worker = new Worker(url, { type: "module" });
  const i32 = new Int32Array(new SharedArrayBuffer(8));
  let answered: () => void = () => {};
  worker.onmessage = () => answered();
  if (mode !== "postMessage") {
    worker.postMessage({ sab: i32.buffer, block: mode === "Atomics.wait" });
  }
  await new Promise((r) => setTimeout(r, 100));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 1; i <= count; i++) {
    if (mode === "postMessage") {
      const { promise, resolve } = Promise.withResolvers<void>();
      answered = resolve;
      worker.postMessage(i);
      await promise;
      continue;
    }
    Atomics.store(i32, 0, i);
    Atomics.notify(i32, 0);
    const wait = Atomics.waitAsync(i32, 1, i - 1);
    if (wait.async) await wait.value;
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  worker.terminate();
  URL.revokeObjectURL(url);
  return [count / seconds, (cpu.user + cpu.system) / count];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Runs the channel benchmark; returns markdown lines. */
export async function workerChannelBench(count: number, rounds: number): Promise<string[]> {
  const lines = [
    `${count} round trips per round, ${rounds} alternating rounds, medians; load average ${
      Deno.loadavg()[0].toFixed(2)
    }.`,
    "",
    "| channel | in flight | round trips/s | CPU µs per round trip |",
    "| --- | --- | --- | --- |",
  ];
  for (const inFlight of [1, 50]) {
    const results: Record<string, [number, number][]> = {};
    for (let r = 0; r < rounds; r++) {
      for (const mode of MODES) (results[mode] ??= []).push(await run(mode, count, inFlight));
    }
    for (const [name, xs] of Object.entries(results)) {
      lines.push(
        `| ${name} | ${inFlight} | ${median(xs.map((x) => x[0])).toFixed(0)} | ${
          median(xs.map((x) => x[1])).toFixed(1)
        } |`,
      );
    }
  }
  lines.push(
    "",
    "Bare wake-up (no payload, one in flight): how the worker waits.",
    "",
    "| worker waits by | round trips/s | CPU µs per round trip |",
    "| --- | --- | --- |",
  );
  const wakes: Record<string, [number, number][]> = {};
  for (let r = 0; r < rounds; r++) {
    for (const mode of WAKE_MODES) (wakes[mode] ??= []).push(await wakeRun(mode, count));
  }
  for (const [name, xs] of Object.entries(wakes)) {
    lines.push(
      `| ${name} | ${median(xs.map((x) => x[0])).toFixed(0)} | ${
        median(xs.map((x) => x[1])).toFixed(1)
      } |`,
    );
  }
  return lines;
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  console.log((await workerChannelBench(quick ? 5_000 : 50_000, quick ? 3 : 5)).join("\n"));
}
