/**
 * Test support for real-process tests: starts a node with the README's own command (the `run`
 * task of deno.json, executed without the `deno task` wrapper so signals reach the node itself),
 * waits for it with a deadline, captures its log lines, and kills it.
 *
 * @module
 */

const root = new URL("../", import.meta.url);

/**
 * A task's command line (the `run` task unless `task` names another) split into program and
 * arguments, the program being this Deno executable; run it with the repository root as cwd.
 */
export async function runTaskCommand(task = "run"): Promise<string[]> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", root)));
  const command = denoJson.tasks[task];
  if (typeof command !== "string") throw new Error(`Cannot run task: no task "${task}"`);
  const words = command.split(/\s+/).filter((w) => w !== "");
  if (words[0] !== "deno") {
    throw new Error(`Cannot run task "${task}": it does not start with deno: ${command}`);
  }
  return [Deno.execPath(), ...words.slice(1)];
}

/** The repository root (the folder of deno.json), as a cwd for {@link runTaskCommand}. */
export const repositoryRoot: URL = root;

/**
 * The first port of the kernel's ephemeral range (Linux: `ip_local_port_range`), where the
 * kernel picks the local ports of outgoing connections and of `port: 0` listeners.
 */
function ephemeralStart(): number {
  try {
    const first = Number(
      Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").split(/\s/)[0],
    );
    if (first > 2048) return first;
  } catch {
    // not Linux, or not readable: the IANA range
  }
  return 49152;
}

const PORTS_FROM = 10_000;
const PORTS_TO = ephemeralStart();

/**
 * Finds a port that is free for both TCP and UDP on 127.0.0.1, below the ephemeral range: a
 * node restarted on its ports must find them free, and a port from the ephemeral range can be
 * taken meanwhile by any outgoing connection of any process (seen as "Address already in use"
 * in a rolling restart while other tests ran).
 */
export function freePort(): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = PORTS_FROM + Math.floor(Math.random() * (PORTS_TO - PORTS_FROM));
    let tcp: Deno.Listener | undefined;
    try {
      tcp = Deno.listen({ hostname: "127.0.0.1", port });
      const udp = Deno.listenDatagram({ hostname: "127.0.0.1", port, transport: "udp" });
      udp.close();
      return port;
    } catch {
      // in use: try another
    } finally {
      tcp?.close();
    }
  }
  throw new Error("Cannot find a free port");
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 10_000,
  intervalMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`, { cause: lastError });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A node running as a child process. */
export class NodeProcess {
  /** Log lines the node wrote to stderr so far. */
  readonly logs: string[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #drained: Promise<void>;
  /** Resolves with the exit status. */
  readonly status: Promise<Deno.CommandStatus>;

  private constructor(
    child: Deno.ChildProcess,
    /** The node's env vars. */
    readonly env: Record<string, string>,
    /** The node's HTTP port. */
    readonly httpPort: number,
    /** The node's gossip port. */
    readonly gossipPort: number,
  ) {
    this.#child = child;
    this.status = child.status;
    this.#drained = Promise.all([
      this.#collect(child.stderr),
      this.#collect(child.stdout),
    ]).then(() => {});
  }

  /**
   * Starts a node with a deno.json task (unless `task` names one: `run`, or `run:processes` when
   * `env` asks for worker processes, which that task alone may start). `env` is added to
   * a clean environment with fresh ports unless given (as `--port`/`--http-port` flags instead
   * when `portFlags`); `args` are extra flags. Waits for `/healthz` unless `wait` is false.
   * `cpus` (a `taskset -c` list, e.g. `"0"`) pins the node to those cores (benchmarks);
   * taskset execs the node, so the pid and signals are the node's own.
   */
  static async start(
    env: Record<string, string> = {},
    options: {
      args?: string[];
      wait?: boolean;
      task?: string;
      portFlags?: boolean;
      cpus?: string;
    } = {},
  ): Promise<NodeProcess> {
    const processes = env.WORKER_MODE === "direct" || env.WORKER_ISOLATION === "process";
    const [deno, ...denoArgs] = await runTaskCommand(
      options.task ?? (processes ? "run:processes" : "run"),
    );
    const [program, ...args] = options.cpus === undefined
      ? [deno, ...denoArgs]
      : ["taskset", "-c", options.cpus, deno, ...denoArgs];
    const httpPort = Number(env.HTTP_PORT ?? freePort());
    const gossipPort = Number(env.PORT ?? freePort());
    const ports = { HTTP_PORT: String(httpPort), PORT: String(gossipPort) };
    const fullEnv: Record<string, string> = {
      ...(options.portFlags ? {} : ports),
      NODE_NAME: `node-${gossipPort}`,
      LOG_LEVEL: "info",
      ...env,
    };
    const portArgs = options.portFlags
      ? ["--port", ports.PORT, "--http-port", ports.HTTP_PORT]
      : [];
    const child = new Deno.Command(program, {
      args: [...args, ...portArgs, ...(options.args ?? [])],
      env: { ...fullEnv, NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
      clearEnv: true,
      cwd: root,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const node = new NodeProcess(child, fullEnv, httpPort, gossipPort);
    if (options.wait !== false) {
      const healthy = waitFor(`node ${fullEnv.NODE_NAME} /healthz`, async () => {
        const res = await fetch(node.url("/healthz")).catch(() => undefined);
        await res?.body?.cancel();
        return res?.ok ? true : undefined;
      }, 20_000);
      // A node that exits while starting fails the start at once, with its output.
      const exited = node.status.then(async (status) => {
        await node.#drained;
        throw new Error(`node exited with ${status.code}: ${node.logs.join("\n")}`);
      });
      healthy.catch(() => {});
      await Promise.race([healthy, exited]);
      exited.catch(() => {});
    }
    return node;
  }

  async #collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    const lines = stream.pipeThrough(new TextDecoderStream());
    let partial = "";
    for await (const chunk of lines) {
      const parts = (partial + chunk).split("\n");
      partial = parts.pop() ?? "";
      this.logs.push(...parts);
    }
    if (partial) this.logs.push(partial);
  }

  /**
   * The node's HTTP URL for `path`: on its `BIND_ADDR` when that is a loopback address other
   * than 127.0.0.1 (nodes sharing a port on 127.0.0.2, .3...), else on 127.0.0.1.
   */
  url(path: string): string {
    const bind = this.env.BIND_ADDR ?? "";
    const host = /^127\.\d+\.\d+\.\d+$/.test(bind) ? bind : "127.0.0.1";
    return `http://${host}:${this.httpPort}${path}`;
  }

  /** The process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Sends a signal (ignored if the process is gone). */
  signal(signal: Deno.Signal): void {
    try {
      this.#child.kill(signal);
    } catch {
      // already exited
    }
  }

  /** SIGKILLs the node (if running) and waits for it and its pipes. */
  async stop(signal: Deno.Signal = "SIGKILL"): Promise<Deno.CommandStatus> {
    this.signal(signal);
    const status = await this.status;
    await this.#drained;
    return status;
  }

  /** Same as `stop()`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
