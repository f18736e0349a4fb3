/**
 * `ClusterTransport`: where each request of the client goes and what happens when it fails.
 *
 * - **Where**: a request about a key goes to the key's owners from the {@link Topology} (its N
 *   holders in partitioned mode, best first; its primary for conditional writes and counters in
 *   both modes); any other request goes to one node, kept while it works (sticky), so a
 *   fixed-node client and a full-replication cluster reuse one connection pool. After the chosen
 *   nodes come the other live members, then the seed URLs.
 * - **When it fails**: a node that refused a connection or broke one is skipped for
 *   {@link DOWN_MS}; the view is refreshed at once (and every `refreshMs` while the client is in
 *   use, lazily, so the client keeps no timer of its own), and also when an answer's
 *   `X-Served-By` says another node served it. Idempotent calls retry on the next node with full
 *   jittered exponential backoff (from 10 ms, from 100 ms after a 503, at most 1 s) within the
 *   call's deadline; other calls retry only when the
 *   request never reached a node (connection refused) or the node answered 503 (the node states
 *   that nothing was applied). A retryable attempt gets half the remaining deadline, so a hung
 *   node leaves time for another.
 *
 * @module
 */

import { CacheClientError, errorText, TimeoutError, UnavailableError } from "./errors.ts";
import { neverReached, reasonOf } from "./_failure.ts";
import { type ClientMember, Topology } from "./topology.ts";
import type { ClientStats, RetryEvent } from "./types.ts";

/** How long a node that failed is skipped, ms. */
export const DOWN_MS = 3_000;
const MIN_REFRESH_GAP_MS = 250;
const BACKOFF_BASE_MS = 10;
// A 503 (in-flight cap, a primary still copying its data set) asks for a longer wait.
const BUSY_BACKOFF_BASE_MS = 100;
const BACKOFF_CAP_MS = 1_000;
const KEPT_RETRIED_CALLS = 1_000;

/** Which calls may be sent again after a failure that may have reached a node. */
export type RetryPolicy = "idempotent" | "unreached";

/** Which node a request should go to first. */
export type Target = "owner" | "primary" | "any";

/** What the transport needs from the client's options. */
export interface TransportOptions {
  /** Seed URLs. */
  nodes: readonly string[];
  /** Bearer token. */
  token?: string;
  /** Deadline of a call, ms. */
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** `"owners"` (route by the topology) or `"fixed"` (the given nodes only, sticky). */
  routing: "owners" | "fixed";
  /** Lazy refresh period of the view, ms. */
  refreshMs: number;
  /** The `fetch` to use. */
  fetch: typeof fetch;
  /** Called before each retry. */
  onRetry?: (event: RetryEvent) => void;
  /** Random numbers in [0, 1) for the jitter. */
  random: () => number;
}

/** One request of a call. */
export interface CallSpec {
  /** Client operation name (errors, stats). */
  op: string;
  /** The key the call is about: routes it to the key's owners. */
  key?: string;
  /** Where it should go first. */
  target: Target;
  /** May it be repeated after it may have reached a node. */
  retry: RetryPolicy;
  /** HTTP method. */
  method: string;
  /** Path and query. */
  path: string;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Request body. */
  body?: BodyInit;
  /** The caller's signal. */
  signal?: AbortSignal;
  /** This call's deadline, ms (default: the client's). */
  timeoutMs?: number;
}

/** Routes, retries and tracks the client's requests; see the module doc. */
export class ClusterTransport {
  readonly #o: TransportOptions;
  readonly #seeds: ClientMember[];
  readonly #protocol: string;
  #topology: Topology | undefined;
  #sticky: string;
  readonly #downUntil = new Map<string, number>();
  #refreshing: Promise<void> | undefined;
  #lastRefresh = -Infinity;
  #closed = false;
  readonly #stats: ClientStats = {
    calls: 0,
    retries: 0,
    failed: 0,
    refreshes: 0,
    servedElsewhere: 0,
    retried: [],
  };

  /** A transport over `options.nodes` (at least one absolute http(s) URL). */
  constructor(options: TransportOptions) {
    if (options.nodes.length === 0) {
      throw new TypeError("Cannot create CacheClient: nodes must list at least one URL");
    }
    this.#seeds = options.nodes.map((raw) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new TypeError(`Cannot create CacheClient: invalid node URL ${JSON.stringify(raw)}`);
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new TypeError(`Cannot create CacheClient: node URL must be http(s): ${raw}`);
      }
      return { name: "", url: url.origin };
    });
    this.#o = options;
    this.#protocol = new URL(this.#seeds[0].url).protocol;
    this.#sticky = this.#seeds[Math.floor(options.random() * this.#seeds.length)].url;
  }

  /** The current view, once one was fetched (`undefined` with `routing: "fixed"`). */
  get topology(): Topology | undefined {
    return this.#topology;
  }

  /** A copy of the counters, and the calls that were retried. */
  stats(): ClientStats {
    return { ...this.#stats, retried: this.#stats.retried.map((c) => ({ ...c })) };
  }

  /** Headers every request carries (the bearer token). */
  baseHeaders(): Record<string, string> {
    return this.#o.token ? { authorization: `Bearer ${this.#o.token}` } : {};
  }

  /** Nodes in the order a call should try them: `key`'s owners first when routing by key. */
  candidates(key: string | undefined, target: Target): string[] {
    const t = this.#topology;
    const first: string[] = [];
    if (t && key !== undefined && (target === "primary" || (target === "owner" && t.partitioned))) {
      const owners = t.ownersOf(key);
      for (const m of target === "primary" ? owners.slice(0, 1) : owners) first.push(m.url);
      if (target === "primary") { for (const m of owners.slice(1)) first.push(m.url); }
    }
    const rest = t && this.#o.routing === "owners" ? t.members.map((m) => m.url) : [];
    // The sticky node leads the rest; the others follow in a fixed order.
    const ordered = [
      ...new Set([...first, this.#sticky, ...rest, ...this.#seeds.map((s) => s.url)]),
    ];
    const now = Date.now();
    const up = ordered.filter((u) => !(this.#downUntil.get(u)! > now));
    const down = ordered.filter((u) => this.#downUntil.get(u)! > now);
    return [...up, ...down];
  }

  /**
   * Sends `spec` and resolves with the node's answer (any status but 503, which is retried);
   * rejects with a typed error when no attempt got one within the deadline.
   */
  async call(spec: CallSpec): Promise<Response> {
    if (this.#closed) throw new CacheClientError(`Cannot ${spec.op}: the client is closed`);
    this.#stats.calls++;
    this.#maybeRefresh();
    if (this.#topology === undefined && this.#refreshing) await this.#refreshing;
    const timeoutMs = spec.timeoutMs ?? this.#o.timeoutMs;
    const deadline = Date.now() + timeoutMs;
    const failures: { node: string; reason: string }[] = [];
    const attempts = this.#o.retries + 1;
    let nodes = this.candidates(spec.key, spec.target);
    const tried = new Set<string>();
    let last: { node: string; reason: string; status?: number; cause?: unknown } | undefined;
    for (let attempt = 0; attempt < attempts; attempt++) {
      spec.signal?.throwIfAborted();
      // Each node once, best first; then around again.
      const node = nodes.find((n) => !tried.has(n)) ?? nodes[attempt % nodes.length];
      tried.add(node);
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      const canRetry = attempt + 1 < attempts;
      const budget = canRetry && spec.retry === "idempotent" ? Math.ceil(remaining / 2) : remaining;
      const timer = AbortSignal.timeout(budget);
      const signal = spec.signal ? anySignal([spec.signal, timer]) : timer;
      let res: Response;
      try {
        res = await this.#o.fetch(node + spec.path, {
          method: spec.method,
          headers: { ...this.baseHeaders(), ...spec.headers },
          ...(spec.body !== undefined ? { body: spec.body } : {}),
          signal,
        });
      } catch (err) {
        spec.signal?.throwIfAborted();
        const timedOut = timer.aborted;
        const reached = timedOut || !neverReached(err);
        const reason = timedOut ? `no answer within ${budget} ms` : reasonOf(err);
        this.#nodeFailed(node);
        last = { node, reason, cause: err };
        failures.push({ node, reason });
        if (reached && spec.retry !== "idempotent") {
          this.#record(spec, failures, false);
          const what = `Cannot ${spec.op}${keyText(spec.key)} on ${node}: ${reason}`;
          throw timedOut
            ? new TimeoutError(`${what} (it may have been applied)`, undefined, { cause: err })
            : new UnavailableError(`${what} (it may have been applied)`, undefined, { cause: err });
        }
        if (!canRetry) break;
        await this.#backoff(spec, attempt, node, reason, deadline);
        nodes = this.candidates(spec.key, spec.target);
        continue;
      }
      if (res.status === 503) {
        const reason = `503 ${await errorText(res)}`;
        last = { node, reason, status: 503 };
        failures.push({ node, reason });
        if (!canRetry) break;
        await this.#backoff(spec, attempt, node, reason, deadline);
        nodes = this.candidates(spec.key, spec.target);
        continue;
      }
      const servedBy = res.headers.get("x-served-by");
      if (servedBy !== null && servedBy !== this.#nameOf(node)) {
        this.#stats.servedElsewhere++;
        this.#maybeRefresh(true);
      }
      if (failures.length > 0) this.#record(spec, failures, true);
      return res;
    }
    this.#record(spec, failures, false);
    const what = `Cannot ${spec.op}${keyText(spec.key)}`;
    if (Date.now() >= deadline && last?.status !== 503) {
      throw new TimeoutError(`${what}: no answer within ${timeoutMs} ms`, undefined, {
        cause: last?.cause,
      });
    }
    throw new UnavailableError(
      `${what}: ${failures.length} attempt(s) failed, last on ${last?.node}: ${last?.reason}`,
      last?.status,
      { cause: last?.cause },
    );
  }

  /** Fetches the view now (also done lazily by calls); resolves once tried. */
  refresh(): Promise<void> {
    if (this.#o.routing === "fixed") return Promise.resolve();
    return this.#refreshing ??= this.#fetchTopology().finally(() => {
      this.#refreshing = undefined;
    });
  }

  /** Stops refreshing; calls made afterwards fail. Waits for a refresh under way. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#refreshing;
  }

  #maybeRefresh(now = false): void {
    if (this.#o.routing === "fixed" || this.#closed) return;
    const since = Date.now() - this.#lastRefresh;
    if (since >= this.#o.refreshMs || (now && since >= MIN_REFRESH_GAP_MS)) {
      this.refresh().catch(() => {});
    }
  }

  async #fetchTopology(): Promise<void> {
    this.#lastRefresh = Date.now();
    for (const node of this.candidates(undefined, "any")) {
      try {
        const res = await this.#o.fetch(`${node}/cluster/topology`, {
          headers: this.baseHeaders(),
          signal: AbortSignal.timeout(Math.min(2_000, this.#o.timeoutMs)),
        });
        if (!res.ok) {
          await res.body?.cancel();
          continue;
        }
        this.#topology = new Topology(await res.json(), this.#protocol);
        this.#stats.refreshes++;
        this.#lastRefresh = Date.now();
        // A failed node stays skipped for DOWN_MS even if listed: gossip takes a moment to see
        // a death, and a refresh right after a failure would otherwise send calls back to it.
        const live = new Set(this.#topology.members.map((m) => m.url));
        if (!live.has(this.#sticky) && live.size > 0) {
          const members = this.#topology.members;
          this.#sticky = members[Math.floor(this.#o.random() * members.length)].url;
        }
        return;
      } catch {
        this.#nodeFailed(node, false);
      }
    }
  }

  /** Refreshes the view if it is older than `refreshMs` (in the background). */
  touch(): void {
    this.#maybeRefresh();
  }

  /** `node` failed outside a call (a watch stream): skip it for a while, refresh the view. */
  nodeFailed(node: string): void {
    this.#nodeFailed(node);
  }

  #nodeFailed(node: string, refresh = true): void {
    this.#downUntil.set(node, Date.now() + DOWN_MS);
    if (this.#sticky === node) {
      const next = this.candidates(undefined, "any").find((u) => u !== node);
      if (next) this.#sticky = next;
    }
    if (refresh) this.#maybeRefresh(true);
  }

  #nameOf(node: string): string | undefined {
    return this.#topology?.members.find((m) => m.url === node)?.name;
  }

  async #backoff(
    spec: CallSpec,
    attempt: number,
    node: string,
    reason: string,
    deadline: number,
  ): Promise<void> {
    this.#stats.retries++;
    const base = reason.startsWith("503") ? BUSY_BACKOFF_BASE_MS : BACKOFF_BASE_MS;
    const cap = Math.min(BACKOFF_CAP_MS, base * 2 ** attempt);
    const delayMs = Math.max(
      0,
      Math.min(Math.floor(this.#o.random() * cap), deadline - Date.now()),
    );
    this.#o.onRetry?.({ op: spec.op, key: spec.key, attempt: attempt + 1, node, reason, delayMs });
    if (delayMs > 0) await sleep(delayMs, spec.signal);
  }

  #record(spec: CallSpec, failures: { node: string; reason: string }[], ok: boolean): void {
    if (!ok) this.#stats.failed++;
    if (failures.length === 0) return;
    const list = this.#stats.retried;
    list.push({
      op: spec.op,
      key: spec.key,
      attempts: failures.length + (ok ? 1 : 0),
      failures,
      ok,
    });
    if (list.length > KEPT_RETRIED_CALLS) list.splice(0, list.length - KEPT_RETRIED_CALLS);
  }
}

function keyText(key: string | undefined): string {
  return key === undefined ? "" : ` ${JSON.stringify(key)}`;
}

/** `AbortSignal.any` where the runtime has it (Node ≥ 20.3, Deno, browsers), else by hand. */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const any = (AbortSignal as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (any) return any(signals);
  const controller = new AbortController();
  for (const s of signals) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener("abort", () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
