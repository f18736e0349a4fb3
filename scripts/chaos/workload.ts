/**
 * The chaos run's clients: several concurrent loops sending `PUT` (some with a TTL) and `DELETE`
 * with `X-Write-Acks: all` to random running nodes, over a small key space so that keys are
 * overwritten and deleted often, at a fixed total rate; every operation goes into the
 * {@link History} with its interval and outcome.
 *
 * @module
 */

import { type Random, randomInt } from "../../src/util/random.ts";
import type { ChaosCluster } from "./cluster.ts";
import type { History, Operation, Outcome } from "./history.ts";

/** Options of {@link WriteClients}. */
export interface WriteClientOptions {
  /** Concurrent client loops. @default 4 */
  clients: number;
  /** Operations per second over all clients. @default 80 */
  rate: number;
  /** Number of distinct keys. @default 200 */
  keys: number;
  /** Share of operations that are deletes. @default 0.2 */
  deleteShare: number;
  /** Share of puts that carry a TTL (1 to `maxTtlMs`). @default 0.25 */
  ttlShare: number;
  /** Longest TTL, ms. @default 8000 */
  maxTtlMs: number;
  /** Client-side deadline of one request, ms. @default 8000 */
  requestTimeoutMs: number;
}

/** Maps an answer to what it proves about the operation. */
export function outcomeOf(status: number): Outcome {
  if (status === 200) return "acked";
  return status >= 400 && status < 500 ? "refused" : "unknown";
}

/** Concurrent writers against a {@link ChaosCluster}. */
export class WriteClients {
  #running = false;
  #loops: Promise<void>[] = [];

  /** Clients writing to `cluster`'s running nodes and recording into `history`. */
  constructor(
    /** The nodes written to. */
    readonly cluster: ChaosCluster,
    /** Where every finished operation goes. */
    readonly history: History,
    /** Draws keys, operations, TTLs and nodes. */
    readonly random: Random,
    /** Rate, key space and mix. */
    readonly options: WriteClientOptions,
  ) {}

  /** Starts the client loops. */
  start(): void {
    this.#running = true;
    const period = (1000 * this.options.clients) / this.options.rate;
    for (let i = 0; i < this.options.clients; i++) this.#loops.push(this.#loop(period));
  }

  /** Stops the loops and waits for the operations in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#loops);
  }

  async #loop(periodMs: number): Promise<void> {
    let due = performance.now();
    while (this.#running) {
      due = Math.max(due + periodMs, performance.now());
      const node = this.cluster.pickRunning();
      if (node) await this.#operate(node.process.url(""));
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  }

  async #operate(base: string): Promise<void> {
    const { keys, deleteShare, ttlShare, maxTtlMs, requestTimeoutMs } = this.options;
    const id = this.history.nextId();
    const key = `key-${randomInt(this.random, keys)}`;
    const kind = this.random.next() < deleteShare ? "delete" : "put";
    const op: Operation = { id, key, kind, start: 0, end: 0, outcome: "unknown", status: "" };
    const init: RequestInit = {
      method: kind === "put" ? "PUT" : "DELETE",
      headers: { "x-write-acks": "all", "content-type": "application/json" },
      signal: AbortSignal.timeout(requestTimeoutMs),
    };
    if (kind === "put") {
      op.value = `v${id}`;
      if (this.random.next() < ttlShare) op.ttlMs = 1000 + randomInt(this.random, maxTtlMs - 999);
      const ttl = op.ttlMs === undefined ? {} : { ttl: op.ttlMs / 1000 };
      init.body = JSON.stringify({ value: op.value, ...ttl });
    }
    op.start = performance.now();
    try {
      const res = await fetch(`${base}/cache/${key}`, init);
      await res.body?.cancel();
      op.status = res.status;
      op.outcome = outcomeOf(res.status);
    } catch (err) {
      op.status = (err as Error).name;
      op.outcome = "unknown";
      if (op.status === "TimeoutError" || op.status === "AbortError") op.mayApplyLater = true;
    }
    op.end = performance.now();
    this.history.add(op);
  }
}
