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

/** The worker's side of the protocol; runs in the worker (see the module doc). */
export function workerBootstrap(): void {
  // Tags of protocol.ts (repeated: this function cannot import).
  const READY = 0, REQUEST = 1, KV = 2, ORIGIN = 3, DRAIN = 4, FAILED = 5, LOG = 6;
  type Handler = { fetch(request: Request, env: unknown, ctx: unknown): unknown };
  type Waiter = { resolve(value: unknown): void; reject(err: Error): void };
  const scope = self as unknown as {
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
  const flush = () => {
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
    if (outbox.length === 0) queueMicrotask(flush);
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
      const ctx = {
        waitUntil(promise: Promise<unknown>) {
          pending++;
          Promise.resolve(promise).catch((err) => post([LOG, `waitUntil: ${err}`]))
            .finally(settled);
        },
        passThroughOnException() {
          passThrough = true;
        },
      };
      const response = await handler!.fetch(request, env, ctx);
      if (!(response instanceof Response)) {
        throw new TypeError("fetch() must return a Response");
      }
      // Read as a whole without touching `response.body`, which would wrap a static body in a
      // stream first.
      let out: ArrayBuffer | null = await response.arrayBuffer();
      if (out.byteLength === 0) out = null;
      post([REQUEST, id, response.status, flat(response.headers), out], out ?? undefined);
    } catch (err) {
      const text = err instanceof Error ? (err.stack ?? String(err)) : String(err);
      post([FAILED, id, text, passThrough ? 1 : 0, body]);
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
      draining = true;
      if (pending === 0) post([DRAIN]);
    }
  };
  scope.onmessage = (event: MessageEvent) => {
    const data = event.data;
    if (Array.isArray(data)) {
      // A frame: the host's messages of one run of microtasks.
      ackTimer ??= setTimeout(ack, 0);
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
      post([READY]);
    }).catch((err) => {
      post([READY, String(err instanceof Error ? err.message : err)]);
    });
  };
}

/** The worker's source text: {@link workerBootstrap}, called. */
export function bootstrapSource(): string {
  return `(${workerBootstrap.toString()})();`;
}
