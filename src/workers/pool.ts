/**
 * A pool of Deno workers running one user module: each request goes to the worker with the
 * fewest in flight; a request past its deadline is answered 503 and its worker terminated and
 * replaced (the only way to stop a `while (true) {}`); a worker that crashes is replaced; when
 * the workers make the process grow past their memory budget, the busy ones are terminated
 * (Deno has no per-worker heap limit, and V8's heap limit is fatal to the whole process).
 * With `WORKER_ISOLATION=process` the workers are `deno` processes (`_process.ts`), killed and
 * replaced the same way, each with its own V8 heap limit instead of the budget. In direct mode
 * (`WORKER_MODE=direct`, always processes) they listen themselves: the pool only starts them,
 * answers their KV and origin calls, kills one whose heartbeat stops, and replaces one that exits.
 *
 * @module
 */

import type { CacheService } from "../service/mod.ts";
import type { Logger } from "../util/log.ts";
import { readAllLimited } from "../util/read_limited.ts";
import { bootstrapSource } from "./_bootstrap.ts";
import { answerKvNow } from "./kv_host.ts";
import { Tag, type WorkerInit } from "./protocol.ts";
import { type ChildExit, ProcessWorker } from "./_process.ts";
import type { WorkerSettings } from "./settings.ts";
import { DURATION_BUCKETS_MS, type WorkerStats } from "./stats.ts";
import { checkGrantable, flatHeaders, headersOf, outsideNodeHeap, plain } from "./_host.ts";

/** Sends a request to the origin (the edge path, or a plain fetch to `ORIGIN`). */
export type OriginFetch = (request: Request) => Promise<Response>;

interface Pending {
  resolve(response: Response): void;
  started: number;
  method: string;
  url: string;
  headers: string[];
}

/** A thread `Worker` or a worker process: what the pool sends through and terminates. */
interface Endpoint {
  postMessage(message: unknown, transfer: Transferable[]): void;
  terminate(): void;
}

interface Slot {
  worker: Endpoint;
  // Messages to the worker not sent yet: those of one run of microtasks leave as one frame, and
  // requests wait while a frame is unanswered (`unanswered`, see `protocol.ts`).
  outbox: unknown[];
  transfers: Transferable[];
  flushQueued: boolean;
  unanswered: boolean;
  // Direct mode: the worker holds its messages until its last frame is answered, so every
  // frame from it gets an answer, an empty one if nothing else goes back in that turn.
  answerDue: boolean;
  pending: Map<number, Pending>;
  ready: Promise<string | undefined>;
  drained?: () => void;
  dead: boolean;
  // Direct mode (a worker process): whether it listens yet (READY), the requests in flight of
  // its last TICK, and when that (or READY) came.
  direct: boolean;
  ticking: boolean;
  inFlight: number;
  tickAt: number;
}

/** What a pool needs. */
export interface WorkerPoolOptions {
  /** The resolved settings. */
  settings: WorkerSettings;
  /** The node, for KV calls. */
  service: CacheService;
  /** Where `env.ORIGIN.fetch` goes. @default no `env.ORIGIN` */
  originFetch?: OriginFetch;
  /** Where errors of the user's code are logged. */
  logger: Logger;
  /** Counters shared by the pools of one runtime (a reload keeps them). */
  stats: WorkerStats;
}

/**
 * Direct mode: how long past the deadline a worker may send no TICK before it counts as stuck:
 * its timer's period and the host's own check, with room to spare.
 */
function stuckGrace(timeoutMs: number): number {
  return Math.max(250, timeoutMs / 4);
}

/**
 * A pool of workers; {@link WorkerPool.start} resolves once every worker loaded the module (and,
 * in direct mode, listens on the edge port itself: {@link WorkerPool.handle} is then unused).
 */
export class WorkerPool {
  readonly #options: WorkerPoolOptions;
  readonly #slots: Slot[] = [];
  readonly #bindings: ReadonlySet<string>;
  readonly #init: WorkerInit;
  readonly #source: string;
  #nextId = 1;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #rssCeiling = 0;
  #memoryPauseUntil = 0;
  #closed = false;

  /** A stopped pool. */
  constructor(options: WorkerPoolOptions) {
    this.#options = options;
    const s = options.settings;
    this.#bindings = new Set(s.bindings);
    this.#init = { module: s.moduleUrl, kv: s.bindings, vars: s.vars, origin: s.origin };
    this.#source = URL.createObjectURL(
      new Blob([bootstrapSource()], { type: "application/javascript" }),
    );
  }

  /**
   * Starts the workers; rejects (and stops them) when the module does not load, or at once when
   * the node itself lacks a permission its workers would get (a worker cannot get more).
   */
  async start(): Promise<void> {
    checkGrantable(this.#options.settings);
    for (let i = 0; i < this.#options.settings.poolSize; i++) this.#slots.push(this.#spawn());
    const errors = (await Promise.all(this.#slots.map((s) => s.ready))).filter((e) => e);
    if (errors.length > 0) {
      await this.close(0);
      throw new Error(`Cannot load worker ${this.#options.settings.moduleUrl}: ${errors[0]}`);
    }
    const { timeoutMs, memoryBytes, processes } = this.#options.settings;
    // Worker processes get a heap limit of their own instead.
    if (memoryBytes > 0 && !processes) this.#rssCeiling = outsideNodeHeap() + memoryBytes;
    // Sampling memory needs the quick period; deadlines alone do with a tenth of the timeout.
    const period = this.#rssCeiling > 0 ? 20 : Math.min(250, Math.max(10, timeoutMs / 10));
    this.#sweep = setInterval(() => this.#check(), period);
  }

  /** Requests being handled now. */
  get inFlight(): number {
    let n = 0;
    for (const slot of this.#slots) n += this.#inFlight(slot);
    return n;
  }

  #inFlight(slot: Slot): number {
    return slot.direct ? slot.inFlight : slot.pending.size;
  }

  /** Runs `request` in the least busy worker. */
  async handle(request: Request): Promise<Response> {
    let slot = this.#slots[0];
    for (const s of this.#slots) if (s.pending.size < slot.pending.size) slot = s;
    const id = this.#nextId++;
    // GET and HEAD have no body: not touching `request.body` spares creating its stream.
    const method = request.method;
    let body: ArrayBuffer | null = null;
    if (method !== "GET" && method !== "HEAD" && request.body !== null) {
      const limit = this.#options.service.limits.maxValueBytes;
      const bytes = await readAllLimited(request.body, limit);
      if (bytes === undefined) return plain(413, `Request body over ${limit} bytes`);
      body = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength
        ? bytes.buffer as ArrayBuffer
        : bytes.slice().buffer;
    }
    const headers = flatHeaders(request.headers);
    const { promise, resolve } = Promise.withResolvers<Response>();
    slot.pending.set(id, {
      resolve,
      started: performance.now(),
      method,
      url: request.url,
      headers,
    });
    this.#send(slot, [Tag.REQUEST, id, method, request.url, headers, body], body, true);
    return promise;
  }

  /**
   * Stops taking requests, waits up to `graceMs` for those in flight (and the workers' pending
   * `waitUntil`s), then terminates the workers.
   */
  async close(graceMs = this.#options.settings.timeoutMs): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweep);
    const drained = this.#slots.map((slot) =>
      new Promise<void>((resolve) => {
        slot.drained = resolve;
        if (slot.dead) resolve();
        else this.#send(slot, [Tag.DRAIN]);
      })
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (graceMs > 0) {
      await Promise.race([
        Promise.all(drained),
        new Promise((r) => timer = setTimeout(r, graceMs)),
      ]);
    }
    clearTimeout(timer);
    for (const slot of this.#slots) this.#kill(slot, 503, "worker runtime stopped");
    URL.revokeObjectURL(this.#source);
  }

  #spawn(): Slot {
    const s = this.#options.settings;
    const ready = Promise.withResolvers<string | undefined>();
    const now = performance.now();
    const slot: Slot = {
      worker: undefined as unknown as Endpoint,
      outbox: [],
      transfers: [],
      flushQueued: false,
      unanswered: false,
      answerDue: false,
      pending: new Map(),
      ready: ready.promise,
      dead: false,
      direct: s.listen !== undefined,
      ticking: false,
      inFlight: 0,
      tickAt: now,
    };
    const onData = (data: unknown) => {
      // The user's code can post anything: a frame that breaks the protocol costs its worker,
      // never an exception in the node.
      try {
        const frame = data as unknown[][];
        if (!Array.isArray(frame)) throw new TypeError("not a frame");
        // Any frame answers the ones sent before: held requests may leave, with the answers to
        // the frame's reads.
        slot.unanswered = false;
        for (let i = 0; i < frame.length; i++) {
          if (!Array.isArray(frame[i])) throw new TypeError("not a message");
          this.#receive(slot, frame[i], ready.resolve);
        }
        if (slot.direct) slot.answerDue = true;
        if (slot.outbox.length > 0 || slot.answerDue) this.#queueFlush(slot);
      } catch (err) {
        this.#options.logger.error("worker broke the protocol: replaced", { err });
        ready.resolve(String(err));
        this.#replace(slot, 500, "Internal error in the worker");
      }
    };
    const onCrash = (error: string, outcome?: "memory") => {
      this.#options.logger.error("worker crashed", { error });
      ready.resolve(error);
      if (outcome !== "memory") return this.#replace(slot, 500, "worker crashed");
      this.#options.stats.memoryKills++;
      this.#replace(slot, 503, "Worker exceeded its memory limit");
    };
    let init: WorkerInit = this.#init;
    if (s.listen) {
      init = { ...init, listen: s.listen, timeoutMs: s.timeoutMs, buckets: DURATION_BUCKETS_MS };
    }
    if (s.processes) {
      slot.worker = new ProcessWorker(s, onData, (exit: ChildExit | Error) => {
        if (exit instanceof Error) return onCrash(String(exit));
        // V8 stops a process at its heap limit with a breakpoint trap.
        const memory = exit.signal === "SIGTRAP";
        onCrash(
          memory
            ? "worker process reached its heap limit (WORKER_MEMORY)"
            : `worker process exited: code ${exit.code}${exit.signal ? `, ${exit.signal}` : ""}`,
          memory ? "memory" : undefined,
        );
      });
    } else {
      const worker = new Worker(this.#source, {
        type: "module",
        name: "edge-worker",
        deno: {
          permissions: {
            read: [s.dir],
            net: s.allowNet.length > 0 ? s.allowNet : false,
            env: false,
            run: false,
            write: false,
            ffi: false,
            sys: false,
            import: false,
          },
        },
      });
      worker.onmessage = (event) => onData(event.data);
      worker.onerror = (event) => {
        event.preventDefault();
        onCrash(event.message);
      };
      slot.worker = worker;
    }
    slot.worker.postMessage(init, []);
    return slot;
  }

  #receive(slot: Slot, message: unknown[], ready: (error?: string) => void): void {
    switch (message[0]) {
      case Tag.REQUEST: {
        const id = message[1] as number;
        const status = message[2] as number;
        const body = status === 204 || status === 304 ? null : message[4] as ArrayBuffer | null;
        const response = new Response(body, { status });
        // Appended to the response's own headers: no second Headers object to copy from.
        const list = message[3] as string[];
        for (let i = 0; i < list.length; i += 2) response.headers.append(list[i], list[i + 1]);
        this.#finish(slot, id, response);
        return;
      }
      case Tag.KV: {
        const call = message[1];
        const answer = (value: unknown) => this.#send(slot, [Tag.KV, call, 1, value]);
        const fail = (err: Error) =>
          this.#send(slot, [Tag.KV, call, 0, String(err?.message ?? err)]);
        try {
          const value = answerKvNow(this.#options.service, this.#bindings, message);
          if (value instanceof Promise) value.then(answer, fail);
          else answer(value);
        } catch (err) {
          fail(err as Error);
        }
        return;
      }
      case Tag.ORIGIN:
        this.#origin(slot, message);
        return;
      case Tag.FAILED:
        this.#failed(slot, message);
        return;
      case Tag.LOG:
        this.#options.logger.warn("worker", { message: message[1] });
        return;
      case Tag.STATS:
        this.#options.stats.add(message);
        return;
      case Tag.TICK:
        slot.inFlight = Math.max(0, Number(message[1]) || 0);
        slot.tickAt = performance.now();
        slot.ticking = true;
        return;
      case Tag.ERROR:
        this.#options.logger.error("worker request failed", {
          url: message[1],
          error: message[2],
        });
        return;
      case Tag.DRAIN:
        slot.drained?.();
        return;
      case Tag.READY:
        // Direct mode: listening from now on, so silent from now on counts (a request may get
        // it stuck before its first TICK).
        if (slot.direct && message[1] === undefined) {
          slot.ticking = true;
          slot.tickAt = performance.now();
        }
        ready(message[1] as string | undefined);
    }
  }

  #finish(slot: Slot, id: number, response: Response, outcome?: "error" | "timeout"): void {
    const pending = slot.pending.get(id);
    if (!pending) return;
    slot.pending.delete(id);
    this.#options.stats.record(performance.now() - pending.started, outcome);
    pending.resolve(response);
  }

  #failed(slot: Slot, message: unknown[]): void {
    const id = message[1] as number;
    const pending = slot.pending.get(id);
    if (!pending) return;
    this.#options.logger.error("worker request failed", { url: pending.url, error: message[2] });
    const originFetch = this.#options.originFetch;
    if (message[3] !== 1 || !originFetch) {
      this.#finish(slot, id, plain(500, "Internal error in the worker"), "error");
      return;
    }
    const body = pending.method === "GET" || pending.method === "HEAD"
      ? null
      : message[4] as ArrayBuffer | null;
    originFetch(
      new Request(pending.url, {
        method: pending.method,
        headers: headersOf(pending.headers),
        body,
      }),
    ).then(
      (response) => this.#finish(slot, id, response, "error"),
      () => this.#finish(slot, id, plain(502, "Origin unreachable"), "error"),
    );
  }

  async #origin(slot: Slot, message: unknown[]): Promise<void> {
    const call = message[1];
    const originFetch = this.#options.originFetch;
    try {
      if (!originFetch) throw new TypeError("no origin configured");
      const response = await originFetch(
        new Request(message[3] as string, {
          method: message[2] as string,
          headers: headersOf(message[4] as string[]),
          body: message[5] as ArrayBuffer | null,
        }),
      );
      let body: ArrayBuffer | null = await response.arrayBuffer();
      if (body.byteLength === 0) body = null;
      this.#send(
        slot,
        [Tag.ORIGIN, call, response.status, flatHeaders(response.headers), body],
        body,
      );
    } catch (err) {
      this.#send(slot, [Tag.ORIGIN, call, -1, String(err)]);
    }
  }

  // Queues `message` for the worker. A request (`hold`) waits while the worker has a frame it
  // has not answered yet: the worker is busy, and what arrives meanwhile leaves as one frame.
  #send(slot: Slot, message: unknown[], transfer?: ArrayBuffer | null, hold = false): void {
    if (slot.dead) return;
    slot.outbox.push(message);
    if (transfer) slot.transfers.push(transfer);
    if (!hold || !slot.unanswered) this.#queueFlush(slot);
  }

  #queueFlush(slot: Slot): void {
    if (slot.flushQueued) return;
    slot.flushQueued = true;
    queueMicrotask(() => this.#flush(slot));
  }

  #flush(slot: Slot): void {
    slot.flushQueued = false;
    const frame = slot.outbox, transfers = slot.transfers;
    if (slot.dead || (frame.length === 0 && !slot.answerDue)) return;
    slot.answerDue = false;
    slot.outbox = [];
    slot.transfers = [];
    slot.unanswered = true;
    slot.worker.postMessage(frame, transfers);
  }

  // Terminates `slot`'s worker and answers its requests with `status`.
  #kill(slot: Slot, status: number, why: string, outcome?: "error" | "timeout"): void {
    if (slot.dead) return;
    slot.dead = true;
    // Direct mode: the requests in flight go with the worker (their connections close); its last
    // TICK may predate the one that got it stuck or crashed it, so that one counts at least.
    const lost = slot.direct && slot.ticking && outcome ? Math.max(1, slot.inFlight) : 0;
    slot.worker.terminate();
    for (let i = 0; i < lost; i++) this.#options.stats.record(0, outcome);
    slot.drained?.();
    for (const id of [...slot.pending.keys()]) this.#finish(slot, id, plain(status, why), outcome);
  }

  #replace(slot: Slot, status: number, why: string, outcome?: "error" | "timeout"): void {
    this.#kill(slot, status, why, outcome ?? "error");
    const i = this.#slots.indexOf(slot);
    if (i < 0 || this.#closed) return;
    this.#slots[i] = this.#spawn();
    this.#options.stats.restarts++;
  }

  #check(): void {
    const now = performance.now();
    const { timeoutMs } = this.#options.settings;
    for (const slot of [...this.#slots]) {
      if (slot.direct) {
        // Direct mode: no TICK for the deadline = its timer cannot run, the worker is stuck in
        // synchronous code (one awaiting past the deadline it answers 503 itself).
        if (!slot.ticking || now - slot.tickAt < timeoutMs + stuckGrace(timeoutMs)) continue;
        this.#options.logger.warn("worker stuck past its timeout: replaced", { timeoutMs });
        this.#replace(slot, 503, "Worker timed out", "timeout");
        continue;
      }
      for (const pending of slot.pending.values()) {
        if (now - pending.started < timeoutMs) continue;
        this.#options.logger.warn("worker request timed out", { url: pending.url, timeoutMs });
        this.#replace(slot, 503, "Worker timed out", "timeout");
        break;
      }
    }
    if (this.#rssCeiling === 0 || now < this.#memoryPauseUntil || this.inFlight === 0) return;
    const rss = outsideNodeHeap();
    if (this.#memoryPauseUntil > 0) {
      // Memory of terminated workers is not always given back to the OS at once: what stayed
      // after the pause becomes the new floor, so the next worker is not blamed for it.
      this.#rssCeiling = Math.max(this.#rssCeiling, rss + this.#options.settings.memoryBytes / 2);
      this.#memoryPauseUntil = 0;
    }
    if (rss <= this.#rssCeiling) return;
    const busy = this.#slots.filter((s) => this.#inFlight(s) > 0);
    this.#options.logger.error("workers over their memory budget: terminating the busy ones", {
      rss,
      busy: busy.length,
    });
    this.#options.stats.memoryKills += busy.length;
    for (const slot of busy) this.#replace(slot, 503, "Worker exceeded its memory limit");
    this.#memoryPauseUntil = now + 500;
  }
}
