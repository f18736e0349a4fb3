/**
 * The code that runs inside each Deno worker: it imports the user's module, builds `env` (KV
 * bindings, vars, `ORIGIN`) and `ctx`, and answers the host's request messages with the
 * handler's responses. It is sent as source text (`bootstrapSource`), not loaded from a file,
 * so the node needs no read access to its own source folder and the worker gets none either;
 * the function must therefore be self-contained (no imports, no outer names). Message shapes
 * and tags: `protocol.ts`.
 *
 * @module
 */

/**
 * The worker's side of the protocol; runs in the worker (see the module doc). `port` is what it
 * talks through: the worker's own scope when omitted (a thread worker), the frames over stdin and
 * stdout in a worker process (`_child_main.ts`).
 */
export function workerBootstrap(port?: unknown): void {
  // Tags of protocol.ts (repeated: this function cannot import).
  const READY = 0,
    REQUEST = 1,
    KV = 2,
    ORIGIN = 3,
    DRAIN = 4,
    FAILED = 5,
    LOG = 6,
    STATS = 7,
    ERROR = 8,
    TICK = 9;
  type Handler = { fetch(request: Request, env: unknown, ctx: unknown): unknown };
  type Waiter = { resolve(value: unknown): void; reject(err: Error): void };
  const scope = (port ?? self) as {
    postMessage(message: unknown, transfer?: Transferable[]): void;
    onmessage: ((event: MessageEvent) => void) | null;
    addEventListener(type: string, listener: (event: Event) => void): void;
  };
  // Messages leave in frames: those posted in one run of microtasks go as one postMessage.
  let outbox: unknown[] = [];
  let transfers: Transferable[] = [];
  // The host holds its requests until this worker answers its last frame: a frame whose
  // requests are still running after this turn of the event loop gets an empty frame back. The
  // timer is cleared as soon as anything leaves (mostly in the same turn): a timer left to fire
  // would wake this thread once more per frame.
  let ackTimer: ReturnType<typeof setTimeout> | undefined;
  // Direct mode turns it around: the host answers every frame of this worker, and messages wait
  // while a frame is unanswered, so the KV calls of requests that arrive meanwhile leave as one.
  let holding = false;
  let unanswered = false;
  const flush = () => {
    if (holding && outbox.length === 0) return;
    unanswered = holding;
    const frame = outbox, list = transfers;
    outbox = [];
    transfers = [];
    if (ackTimer !== undefined) {
      clearTimeout(ackTimer);
      ackTimer = undefined;
    }
    scope.postMessage(frame, list);
  };
  const ack = () => {
    ackTimer = undefined;
    flush();
  };
  const post = (message: unknown[], transfer?: Transferable) => {
    if (outbox.length === 0 && !unanswered) queueMicrotask(flush);
    outbox.push(message);
    if (transfer) transfers.push(transfer);
  };
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const calls = new Map<number, Waiter>();
  let nextCall = 1;
  let handler: Handler | undefined;
  let env: Record<string, unknown> = {};
  let pending = 0;
  let draining = false;

  const call = (message: unknown[], transfer?: Transferable): Promise<unknown> => {
    const id = nextCall++;
    message[1] = id;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    calls.set(id, { resolve, reject });
    pending++;
    post(message, transfer);
    return promise.finally(settled);
  };
  const settled = () => {
    pending--;
    if (draining && pending === 0) post([DRAIN]);
  };
  const flat = (headers: Headers): string[] => {
    const out: string[] = [];
    for (const [name, value] of headers) out.push(name, value);
    return out;
  };
  const headersOf = (list: string[]): Headers => {
    const headers = new Headers();
    for (let i = 0; i < list.length; i += 2) headers.append(list[i], list[i + 1]);
    return headers;
  };
  const bytesOf = async (value: unknown): Promise<string | Uint8Array> => {
    if (typeof value === "string") return value;
    if (value instanceof ArrayBuffer) return new Uint8Array(value);
    if (ArrayBuffer.isView(value)) {
      return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    }
    if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).bytes());
    throw new TypeError(
      "KV put() accepts a string, ArrayBuffer, ArrayBufferView or ReadableStream",
    );
  };
  const typed = (value: unknown, type: string): unknown => {
    if (value === null) return null;
    const v = value as string | Uint8Array;
    switch (type) {
      case "text":
        return typeof v === "string" ? v : decoder.decode(v);
      case "json":
        return JSON.parse(typeof v === "string" ? v : decoder.decode(v));
      case "arrayBuffer": {
        const bytes = typeof v === "string" ? encoder.encode(v) : v;
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
      }
      case "stream":
        return new Response(typeof v === "string" ? v : v as Uint8Array<ArrayBuffer>).body;
      default:
        throw new TypeError(
          `Unknown KV value type "${type}": expected text, json, arrayBuffer or stream`,
        );
    }
  };
  const typeOf = (options: unknown): string =>
    typeof options === "string"
      ? options
      : (options as { type?: string } | undefined)?.type ?? "text";
  const ttlOf = (options?: { expirationTtl?: number; expiration?: number }): number => {
    if (options?.expirationTtl !== undefined) return Math.round(options.expirationTtl * 1000);
    if (options?.expiration !== undefined) {
      return Math.max(1, Math.round(options.expiration * 1000 - Date.now()));
    }
    return 0;
  };
  const kvBinding = (name: string) => ({
    get: (key: string, options?: unknown) =>
      call([KV, 0, name, "get", String(key)]).then((v) => typed(v, typeOf(options))),
    getWithMetadata: (key: string, options?: unknown) =>
      call([KV, 0, name, "getm", String(key)]).then((v) => {
        const [value, metadata] = v as [unknown, unknown];
        return { value: typed(value, typeOf(options)), metadata: metadata ?? null };
      }),
    put: async (
      key: string,
      value: unknown,
      options?: { expirationTtl?: number; expiration?: number; metadata?: unknown },
    ) => {
      await call([KV, 0, name, "put", String(key), await bytesOf(value), [
        ttlOf(options),
        options?.metadata ?? null,
      ]]);
    },
    delete: async (key: string) => {
      await call([KV, 0, name, "del", String(key)]);
    },
    list: (options?: { prefix?: string; limit?: number; cursor?: string }) =>
      call([KV, 0, name, "list", "", [
        options?.prefix ?? "",
        options?.limit ?? 1000,
        options?.cursor ?? "",
      ]]),
    incr: (key: string, by = 1, options?: { expirationTtl?: number }) =>
      call([KV, 0, name, "incr", String(key), by, ttlOf(options)]),
  });
  const originBinding = {
    fetch: async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
      const request = input instanceof Request && init === undefined ? input : new Request(
        input instanceof Request ? input : new URL(String(input), "http://origin/"),
        init,
      );
      const body = request.body ? await request.arrayBuffer() : null;
      const reply = await call(
        [ORIGIN, 0, request.method, request.url, flat(request.headers), body],
        body ?? undefined,
      ) as [number, string[], ArrayBuffer | null];
      return new Response(reply[2], { status: reply[0], headers: headersOf(reply[1]) });
    },
  };

  const ctxOf = (passThrough: () => void) => ({
    waitUntil(promise: Promise<unknown>) {
      pending++;
      Promise.resolve(promise).catch((err) => post([LOG, `waitUntil: ${err}`])).finally(settled);
    },
    passThroughOnException: passThrough,
  });
  const errorText = (err: unknown) =>
    err instanceof Error ? (err.stack ?? String(err)) : String(err);

  // Direct mode (WORKER_MODE=direct, a worker process): it listens on the edge port itself, so
  // a request costs no hop. TICK messages, one per turn of its timer, tell the host it is alive
  // and how many requests it holds (one stuck in synchronous code stops sending them and is
  // killed); a handler that awaits past the deadline is answered 503 here, and the worker's
  // counters reach the host in STATS messages.
  let inFlight = 0;
  let timeoutMs = 30_000;
  let buckets: readonly number[] = [];
  let counts: number[] = [];
  let server: { shutdown(): Promise<void> } | undefined;
  const TIMED_OUT = new Error("timed out");
  const live = new Set<{ started: number; expire(): void }>();
  // Counters leave with the next TICK, errors and timeouts at once (a worker killed next would
  // take them along).
  const sendStats = () => {
    if (counts[0] === 0) return;
    post([STATS, ...counts]);
    counts.fill(0);
  };
  const count = (ms: number, outcome: number) => {
    counts[0]++;
    if (outcome > 0) counts[outcome]++;
    counts[3] += ms;
    let i = 0;
    while (i < buckets.length && ms > buckets[i]) i++;
    counts[4 + i]++;
    if (outcome > 0) sendStats();
  };
  const text = (status: number, body: string) =>
    new Response(body + "\n", {
      status,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  const direct = async (request: Request): Promise<Response> => {
    const started = performance.now();
    pending++;
    inFlight++;
    let passThrough = false;
    let outcome = 0; // 0 answered, 1 error, 2 timeout (the slots of `counts`)
    try {
      let result = handler!.fetch(request, env, ctxOf(() => passThrough = true));
      if (result instanceof Promise) {
        const late = Promise.withResolvers<never>();
        const entry = { started, expire: () => late.reject(TIMED_OUT) };
        live.add(entry);
        try {
          result = await Promise.race([result, late.promise]);
        } finally {
          live.delete(entry);
        }
      }
      if (!(result instanceof Response)) throw new TypeError("fetch() must return a Response");
      return result;
    } catch (err) {
      if (err === TIMED_OUT) {
        outcome = 2;
        return text(503, "Worker timed out");
      }
      outcome = 1;
      post([ERROR, request.url, errorText(err)]);
      if (!passThrough || !env.ORIGIN || request.bodyUsed) {
        return text(500, "Internal error in the worker");
      }
      return await originBinding.fetch(request).catch(() => text(502, "Origin unreachable"));
    } finally {
      inFlight--;
      count(performance.now() - started, outcome);
      settled();
    }
  };
  const listen = (init: Record<string, unknown>) => {
    const where = init.listen as { hostname: string; port: number };
    timeoutMs = init.timeoutMs as number;
    buckets = init.buckets as number[];
    counts = new Array(4 + buckets.length + 1).fill(0);
    holding = true;
    setInterval(() => {
      const now = performance.now();
      for (const entry of live) {
        if (now - entry.started < timeoutMs) continue;
        live.delete(entry);
        entry.expire();
      }
      // Every turn: the host counts a worker that sent none for the deadline as stuck.
      sendStats();
      post([TICK, inFlight]);
    }, Math.min(100, Math.max(10, timeoutMs / 10)));
    server = Deno.serve({
      hostname: where.hostname,
      port: where.port,
      reusePort: true,
      onListen: () => post([READY]),
    }, direct);
  };

  const serve = async (message: unknown[]) => {
    const id = message[1] as number;
    const body = message[5] as ArrayBuffer | null;
    let passThrough = false;
    pending++;
    try {
      const request = new Request(message[3] as string, { method: message[2] as string, body });
      // Appended to the request's own headers: no second Headers object to copy from.
      const list = message[4] as string[];
      for (let i = 0; i < list.length; i += 2) request.headers.append(list[i], list[i + 1]);
      const response = await handler!.fetch(request, env, ctxOf(() => passThrough = true));
      if (!(response instanceof Response)) {
        throw new TypeError("fetch() must return a Response");
      }
      // Read as a whole without touching `response.body`, which would wrap a static body in a
      // stream first.
      let out: ArrayBuffer | null = await response.arrayBuffer();
      if (out.byteLength === 0) out = null;
      post([REQUEST, id, response.status, flat(response.headers), out], out ?? undefined);
    } catch (err) {
      post([FAILED, id, errorText(err), passThrough ? 1 : 0, body]);
    } finally {
      settled();
    }
  };

  scope.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    post([LOG, `unhandled rejection: ${(event as PromiseRejectionEvent).reason}`]);
  });
  let loaded: Promise<void> | undefined;
  const receive = (message: unknown[]) => {
    const tag = message[0] as number;
    if (tag === REQUEST) {
      if (handler) serve(message);
      else loaded!.then(() => serve(message));
    } else if (tag === KV || tag === ORIGIN) {
      const id = message[1] as number;
      const waiter = calls.get(id);
      if (!waiter) return;
      calls.delete(id);
      if (tag === KV) {
        if (message[2] === 1) waiter.resolve(message[3]);
        else waiter.reject(new Error(message[3] as string));
      } else if (message[2] === -1) waiter.reject(new TypeError(message[3] as string));
      else waiter.resolve([message[2], message[3], message[4]]);
    } else if (tag === DRAIN) {
      // Direct mode: stop listening and let the requests in flight finish first.
      (server?.shutdown() ?? Promise.resolve()).finally(() => {
        sendStats();
        draining = true;
        if (pending === 0) post([DRAIN]);
      });
    }
  };
  scope.onmessage = (event: MessageEvent) => {
    const data = event.data;
    if (Array.isArray(data)) {
      // A frame: the host's messages of one run of microtasks. The host holds requests only
      // in pool mode, so only there does a frame need an answer.
      if (holding) {
        unanswered = false;
        if (outbox.length > 0) queueMicrotask(flush);
      } else ackTimer ??= setTimeout(ack, 0);
      for (let i = 0; i < data.length; i++) receive(data[i]);
      return;
    }
    const init = data as { module: string; kv: string[]; vars: Record<string, string> };
    env = { ...init.vars };
    for (const name of init.kv) env[name] = kvBinding(name);
    if ((data as { origin: boolean }).origin) env.ORIGIN = originBinding;
    loaded = import(init.module).then((module) => {
      const candidate = module.default as Handler | undefined;
      if (typeof candidate?.fetch !== "function") {
        throw new TypeError("the module's default export has no fetch(request, env, ctx)");
      }
      handler = candidate;
      if (data.listen) listen(data);
      else post([READY]);
    }).catch((err) => {
      post([READY, String(err instanceof Error ? err.message : err)]);
    });
  };
}

/** The worker's source text: {@link workerBootstrap}, called. */
export function bootstrapSource(): string {
  return `(${workerBootstrap.toString()})();`;
}
