/**
 * A headless Chromium driven over the DevTools protocol (CDP) with Deno's own WebSocket: start
 * the browser, open one page, read text by CSS selector, run a script in it (to type and click),
 * take a screenshot. Written by hand
 * (about a hundred lines) instead of using playwright-core because an npm package in the lockfile
 * is downloaded by every `deno run` of the project, the server included (Deno initialises every
 * npm package of `deno.lock` at start-up), and the dashboard test needs only these five calls.
 *
 * @module
 */

/** One page of a {@link HeadlessChromium}. */
export interface ChromiumPage {
  /** Loads `url` and resolves once its `load` event fired. */
  goto(url: string): Promise<void>;
  /** The text content of the first element matching `selector`, or `null` when none matches. */
  textContent(selector: string): Promise<string | null>;
  /** Runs `expression` in the page (awaiting a promise it returns) and returns its JSON value. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Writes a PNG screenshot of the viewport to `path`. */
  screenshot(path: string): Promise<void>;
}

/** A headless Chromium process; {@link HeadlessChromium.launch} starts one, `close` ends it. */
export class HeadlessChromium {
  readonly #child: Deno.ChildProcess;
  readonly #profile: string;
  readonly #port: number;
  readonly #sockets: WebSocket[] = [];

  private constructor(child: Deno.ChildProcess, profile: string, port: number) {
    this.#child = child;
    this.#profile = profile;
    this.#port = port;
  }

  /** Starts `executable` headless with a throwaway profile and `args` added. */
  static async launch(executable: string, args: string[] = []): Promise<HeadlessChromium> {
    const profile = await Deno.makeTempDir({ prefix: "cachenode-chromium-" });
    const child = new Deno.Command(executable, {
      args: [
        "--headless",
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        ...args,
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID" once ready.
    let seen = "";
    const decoder = new TextDecoder();
    const reader = child.stderr.getReader();
    const deadline = setTimeout(() => reader.cancel(), 20_000);
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += decoder.decode(value, { stream: true });
        const match = seen.match(/DevTools listening on ws:\/\/[^:]+:(\d+)\//);
        if (match) {
          // Keep draining stderr so that the browser never blocks on a full pipe.
          (async () => {
            while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
          })();
          return new HeadlessChromium(child, profile, Number(match[1]));
        }
      }
    } finally {
      clearTimeout(deadline);
    }
    child.kill("SIGKILL");
    await child.status;
    throw new Error(`Cannot start ${executable}: no DevTools address printed: ${seen.slice(-500)}`);
  }

  /** Opens a new page sized `width` × `height`. */
  async newPage(viewport: { width: number; height: number }): Promise<ChromiumPage> {
    const response = await fetch(`http://127.0.0.1:${this.#port}/json/new?about:blank`, {
      method: "PUT",
    });
    const target = await response.json() as { webSocketDebuggerUrl: string };
    const socket = new WebSocket(target.webSocketDebuggerUrl);
    this.#sockets.push(socket);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    let nextId = 1;
    const pending = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
    const listeners = new Set<(method: string) => void>();
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.id === undefined) return listeners.forEach((l) => l(message.method));
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(`CDP: ${message.error.message}`));
      else waiter?.resolve(message.result);
    };
    const send = (method: string, params: Record<string, unknown> = {}) => {
      const id = nextId++;
      const waiter = Promise.withResolvers<Record<string, unknown>>();
      pending.set(id, waiter);
      socket.send(JSON.stringify({ id, method, params }));
      return waiter.promise;
    };
    await send("Page.enable");
    await send("Emulation.setDeviceMetricsOverride", {
      ...viewport,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const evaluate = async <T>(expression: string): Promise<T> => {
      const { result, exceptionDetails } = await send("Runtime.evaluate", {
        expression,
        returnByValue: true,
        awaitPromise: true,
      }) as { result: { value: T }; exceptionDetails?: { text: string; exception?: unknown } };
      if (exceptionDetails) {
        const why = exceptionDetails.exception ?? exceptionDetails.text;
        throw new Error(`Page script failed: ${JSON.stringify(why)}`);
      }
      return result.value;
    };
    return {
      async goto(url) {
        const loaded = Promise.withResolvers<void>();
        const onEvent = (method: string) => method === "Page.loadEventFired" && loaded.resolve();
        listeners.add(onEvent);
        try {
          await send("Page.navigate", { url });
          await loaded.promise;
        } finally {
          listeners.delete(onEvent);
        }
      },
      evaluate,
      textContent(selector) {
        return evaluate<string | null>(
          `document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`,
        );
      },
      async screenshot(path) {
        const { data } = await send("Page.captureScreenshot", { format: "png" }) as {
          data: string;
        };
        await Deno.writeFile(path, Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
      },
    };
  }

  /** Ends the browser and removes its profile. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.close();
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#child.status;
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}
