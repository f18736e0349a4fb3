/**
 * The entry point of a worker process (`WORKER_MODE=direct`): the node starts it with the
 * worker's permissions as command-line flags (its folder to read, its hosts and the edge port
 * for the network, a heap limit) and talks to it in frames over stdin and stdout
 * (`_frames.ts`). It runs the same worker code as a thread worker (`_bootstrap.ts`), which then
 * listens on the edge port itself. A process, not a thread: Deno's `Worker.terminate()` does not
 * stop a worker stuck in synchronous code (the thread spins on and its listening socket stays
 * open, measured in docs/benchmarks.md "Edge workers"), while a killed process frees both.
 *
 * Stdout carries the frames, so the user's `console.log` goes to stderr; when stdin ends (the
 * node stopped, even by SIGKILL) the process exits.
 *
 * @module
 */

import { encodeFrame, FrameReader } from "./_frames.ts";
import { workerBootstrap } from "./_bootstrap.ts";

/** Runs the worker side over this process's stdin and stdout. */
export async function runChild(): Promise<void> {
  const toStderr = console.error.bind(console);
  console.log = console.info = console.debug = toStderr;
  const out = Deno.stdout;
  const port = {
    onmessage: null as ((event: { data: unknown }) => void) | null,
    postMessage(message: unknown): void {
      const frame = encodeFrame(message);
      let written = 0;
      while (written < frame.byteLength) written += out.writeSync(frame.subarray(written));
    },
    addEventListener: globalThis.addEventListener.bind(globalThis),
  };
  workerBootstrap(port);
  const reader = new FrameReader();
  // `read` into one reused buffer (no stream machinery per chunk); each chunk copied out, since
  // decoded bytes are views of what they were decoded from.
  const buffer = new Uint8Array(64 * 1024);
  try {
    for (let n = await Deno.stdin.read(buffer); n !== null; n = await Deno.stdin.read(buffer)) {
      for (const data of reader.push(buffer.slice(0, n))) port.onmessage?.({ data });
    }
  } finally {
    Deno.exit(0);
  }
}

if (import.meta.main) await runChild();
