/**
 * Builds and drives the Go memberlist test peer (`testing/gopeer`, our own code on
 * Debian's golang-go and golang-github-hashicorp-memberlist-dev, built in GOPATH mode with no
 * module downloads). `goPeerBinary()` explains why when the toolchain or the library is missing,
 * so the interop tests can report themselves skipped with that reason.
 *
 * @module
 */

import { waitFor } from "./node_process.ts";

const GOCODE = "/usr/share/gocode";
const MEMBERLIST_SRC = `${GOCODE}/src/github.com/hashicorp/memberlist`;

/** The built peer's path, or the reason it cannot be built here. */
export async function goPeerBinary(): Promise<{ path?: string; reason?: string }> {
  const go = await new Deno.Command("go", { args: ["version"], stdout: "null", stderr: "null" })
    .output().catch(() => undefined);
  if (!go?.success) return { reason: "go toolchain not installed (apt: golang-go)" };
  if (!(await Deno.stat(MEMBERLIST_SRC).catch(() => undefined))) {
    return { reason: "memberlist source missing (apt: golang-github-hashicorp-memberlist-dev)" };
  }
  const dir = await Deno.makeTempDir({ prefix: "gopeer-" });
  const path = `${dir}/gopeer`;
  const build = await new Deno.Command("go", {
    args: ["build", "-o", path, "."],
    cwd: new URL("./gopeer/", import.meta.url).pathname,
    env: {
      GO111MODULE: "off",
      GOPATH: `${dir}/gopath:${GOCODE}`,
      GOPROXY: "off",
      GOFLAGS: "",
      HOME: Deno.env.get("HOME") ?? dir,
      PATH: Deno.env.get("PATH") ?? "",
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!build.success) {
    return { reason: `go build failed: ${new TextDecoder().decode(build.stderr).slice(0, 300)}` };
  }
  return { path };
}

/** One JSON event line printed by the Go peer. */
// deno-lint-ignore no-explicit-any
export type GoEvent = Record<string, any>;

/** A running Go memberlist peer. */
export class GoPeer {
  /** Every event printed so far, in order. */
  readonly events: GoEvent[] = [];
  /** memberlist's log lines (stderr). */
  readonly logs: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #done: Promise<unknown>;

  private constructor(child: Deno.ChildProcess, readonly name: string, readonly port: number) {
    this.#child = child;
    this.#stdin = child.stdin.getWriter();
    this.#done = Promise.all([
      this.#lines(child.stdout, (l) => {
        try {
          this.events.push(JSON.parse(l));
        } catch {
          this.logs.push(l);
        }
      }),
      this.#lines(child.stderr, (l) => this.logs.push(l)),
    ]);
  }

  /** Starts a peer and waits for its `ready` event (and `joined` when `join` is given). */
  static async start(
    binary: string,
    options: { name: string; port: number; join?: string; args?: string[] },
  ): Promise<GoPeer> {
    const args = ["-name", options.name, "-port", String(options.port), ...(options.args ?? [])];
    if (options.join) args.push("-join", options.join);
    const child = new Deno.Command(binary, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const peer = new GoPeer(child, options.name, options.port);
    await peer.waitEvent((e) => e.event === "ready", 10_000);
    if (options.join) {
      const joined = await peer.waitEvent((e) => e.event === "joined", 15_000);
      if (joined.error) throw new Error(`go peer ${options.name} cannot join: ${joined.error}`);
    }
    return peer;
  }

  async #lines(stream: ReadableStream<Uint8Array>, sink: (line: string) => void): Promise<void> {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      for (const p of parts) if (p.trim()) sink(p);
    }
  }

  /** Sends one control command line. */
  async command(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(line + "\n"));
  }

  /** Waits for an event (printed after `from`, an index into `events`) matching `match`. */
  waitEvent(match: (e: GoEvent) => boolean, timeoutMs: number, from = 0): Promise<GoEvent> {
    return waitFor(
      `go peer ${this.name} event`,
      () => this.events.slice(from).find(match),
      timeoutMs,
      20,
    );
  }

  /** The peer's current member list (alive and suspect members, as memberlist reports). */
  async members(): Promise<GoEvent[]> {
    const from = this.events.length;
    await this.command("members");
    const e = await this.waitEvent((x) => x.event === "members", 5_000, from);
    return e.members ?? [];
  }

  /** Sends a signal to the process. */
  signal(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already gone
    }
  }

  /** Kills the peer (SIGKILL by default) and waits for it. */
  async stop(signal: Deno.Signal = "SIGKILL"): Promise<void> {
    this.signal(signal);
    await this.#stdin.close().catch(() => {});
    await this.#child.status;
    await this.#done;
  }
}
