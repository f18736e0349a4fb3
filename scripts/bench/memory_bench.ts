/**
 * Memory benchmark: stored bytes per entry for 1,000,000 entries (16-byte keys, 100-byte values)
 * in our store (heap + external growth after GC, in a fresh Deno process) against Redis
 * (`INFO memory` used_memory growth for the same data loaded with `redis-cli --pipe`).
 *
 * @module
 */

import { freePort, waitFor } from "../../testing/mod.ts";

/** The key of entry `i`: exactly 16 bytes. */
export function benchKey(i: number): string {
  return `key:${i.toString().padStart(12, "0")}`;
}

/** The value of entry `i`: exactly 100 bytes. */
export function benchValue(i: number): string {
  return `v${i.toString().padStart(12, "0")}`.padEnd(100, "x");
}

async function measureOurs(count: number): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--v8-flags=--expose-gc",
      new URL("memory_child.ts", import.meta.url).pathname,
      String(count),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error("memory child failed");
  return Number(new TextDecoder().decode(out.stdout).trim());
}

async function redisInfo(port: number, field: string): Promise<number> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-p", String(port), "INFO", "memory"],
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  return Number(new RegExp(`^${field}:(\\d+)`, "m").exec(text)?.[1]);
}

async function measureRedis(count: number): Promise<number> {
  const port = freePort();
  const server = new Deno.Command("redis-server", {
    args: ["--port", String(port), "--save", "", "--appendonly", "no", "--bind", "127.0.0.1"],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitFor("redis", async () => (await redisInfo(port, "used_memory")) > 0 || undefined);
    const before = await redisInfo(port, "used_memory");
    const pipe = new Deno.Command("redis-cli", {
      args: ["-p", String(port), "--pipe"],
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const writer = pipe.stdin.getWriter();
    const enc = new TextEncoder();
    let batch = "";
    for (let i = 0; i < count; i++) {
      const k = benchKey(i), v = benchValue(i);
      batch += `*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`;
      if (batch.length > 1 << 20) {
        await writer.write(enc.encode(batch));
        batch = "";
      }
    }
    await writer.write(enc.encode(batch));
    await writer.close();
    await pipe.status;
    const after = await redisInfo(port, "used_memory");
    return (after - before) / count;
  } finally {
    server.kill("SIGKILL");
    await server.status;
  }
}

/** Runs the comparison; returns markdown table rows. */
export async function memoryBench(count: number): Promise<string[]> {
  const ours = await measureOurs(count);
  let redis: number | undefined;
  try {
    redis = await measureRedis(count);
  } catch (err) {
    console.error(`redis measurement failed: ${(err as Error).message}`);
  }
  return [
    `| store (${
      count.toLocaleString("en")
    } entries, 16 B keys, 100 B values) | bytes per entry | ratio to Redis |`,
    "|---|---|---|",
    `| ours (TtlStore, heap + external after GC) | ${ours.toFixed(1)} | **${
      redis ? (ours / redis).toFixed(2) : "n/a"
    }** |`,
    `| Redis ${redis ? "(INFO memory used_memory)" : "(not measured: redis-server missing)"} | ${
      redis?.toFixed(1) ?? "n/a"
    } | 1.00 |`,
  ];
}
