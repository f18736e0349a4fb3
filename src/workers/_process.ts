/**
 * The host's end of a worker process (`WORKER_MODE=direct`, see `_child_main.ts` for why a
 * process): spawns `deno run` (the `deno` on PATH) with the worker's permissions as flags, sends messages as frames
 * on its stdin, hands the frames of its stdout to `onData`, and reports an exit it did not ask
 * for to `onExit` (a signal of `SIGTRAP` is V8 giving up at the heap limit).
 *
 * @module
 */

import { encodeFrame, FrameReader } from "./_frames.ts";
import type { WorkerSettings } from "./settings.ts";
import { netGrant } from "./_host.ts";

/** The entry point the process runs. */
const CHILD_MAIN = new URL("./_child_main.ts", import.meta.url);

/** The `deno run` arguments of a worker process with `settings`. */
export function childArgs(settings: WorkerSettings): string[] {
  const net = netGrant(settings);
  const args = [
    "run",
    "--no-prompt",
    "--no-check",
    `--allow-read=${settings.dir}`,
    ...(net.length > 0 ? [`--allow-net=${net.join(",")}`] : []),
    "--unstable-net",
    // As thread workers: no remote https imports (npm: ones resolve as anywhere).
    "--deny-import",
  ];
  if (settings.memoryBytes > 0) {
    const mb = Math.max(16, Math.floor(settings.memoryBytes / (1024 * 1024)));
    args.push(`--v8-flags=--max-old-space-size=${mb}`);
  }
  args.push(CHILD_MAIN.href);
  return args;
}

/** How a worker process ended when nobody asked it to. */
export interface ChildExit {
  /** Exit code. */
  code: number;
  /** Signal, if one ended it. */
  signal: Deno.Signal | null;
}

/** A running worker process; the pool uses it as it uses a thread `Worker`. */
export class ProcessWorker {
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #terminated = false;

  /**
   * Spawns the process. `onData` gets each message it sends; `onExit` is called once if it ends
   * before {@link ProcessWorker.terminate}, or breaks the framing.
   */
  constructor(
    settings: WorkerSettings,
    readonly onData: (data: unknown) => void,
    readonly onExit: (exit: ChildExit | Error) => void,
  ) {
    // By name: the node's grant is `--allow-run=deno` (the `run:processes` task).
    this.#child = new Deno.Command("deno", {
      args: childArgs(settings),
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#stdin.closed.catch(() => {});
    this.#read();
    this.#child.status.then((status) => {
      if (!this.#terminated) this.onExit({ code: status.code, signal: status.signal });
      this.#terminated = true;
    });
  }

  /** Sends `message` (transfer lists mean nothing between processes). */
  postMessage(message: unknown, _transfer?: unknown): void {
    if (this.#terminated) return;
    this.#stdin.write(encodeFrame(message)).catch(() => {});
  }

  /** Kills the process (SIGKILL: a worker stuck in a loop answers nothing else). */
  terminate(): void {
    if (this.#terminated) return;
    this.#terminated = true;
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // already gone
    }
    this.#stdin.close().catch(() => {});
  }

  async #read(): Promise<void> {
    const reader = new FrameReader();
    try {
      for await (const chunk of this.#child.stdout) {
        for (const data of reader.push(chunk)) this.onData(data);
      }
    } catch (err) {
      if (!this.#terminated) {
        this.terminate();
        this.onExit(err as Error);
      }
    }
  }
}
