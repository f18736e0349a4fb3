/**
 * What one node remembers for the dashboard, so a page opened after an incident still shows it:
 * the last hour of events (members joining, turning suspect, refuting, dying, leaving; this node
 * starting and refuting; replication backlogs dropped; eviction spikes) and 15 minutes of
 * per-second samples (requests, hits and misses, memory, replication lag, edge hits).
 *
 * {@link NodeHistory} samples on the node's injected clock, once a second: it diffs the member
 * list and the counters of `stats()` against the previous sample. A member list read once a
 * second misses a suspicion refuted within that second; the timeline is for people, not for
 * proofs. Memory is bounded: a fixed ring of samples and at most `maxEvents` events.
 *
 * @module
 */

import type { MemberView } from "../service/mod.ts";
import type { Clock, TimerId } from "../util/clock.ts";

/** What happened, in the words the timeline shows. */
export type HistoryEventKind =
  | "start"
  | "join"
  | "suspect"
  | "refute"
  | "dead"
  | "leave"
  | "backlog-drop"
  | "eviction-spike";

/** One entry of the timeline. */
export interface HistoryEvent {
  /** When the observing node noticed it, epoch ms. */
  t: number;
  /** What happened. */
  kind: HistoryEventKind;
  /** The member it happened to. */
  member: string;
  /** Numbers or words that go with it (incarnation, records dropped, evictions per second). */
  detail?: string;
}

/** The per-second samples of one node, column by column (index i of each array is one second). */
export interface HistorySeries {
  /** Sample time, epoch ms. */
  t: number[];
  /** Requests answered in that second, the dashboard's own left out. */
  requests: number[];
  /** Store reads that found an entry in that second. */
  hits: number[];
  /** Store reads that found nothing in that second. */
  misses: number[];
  /** Store bytes at the sample. */
  bytes: number[];
  /** `MAX_MEMORY` in bytes (0 = unlimited). */
  maxBytes: number[];
  /** Replication lag p99 (ms) when fresh writes from peers arrived in that second, else 0. */
  lagMs: number[];
  /** Edge cache hits in that second; absent when the node has no `edge` stats section. */
  edgeHits?: number[];
  /** Edge cache misses in that second; absent like `edgeHits`. */
  edgeMisses?: number[];
}

/** A node's history as `/dashboard/state?scope=local` returns it. */
export interface HistorySnapshot {
  /** Oldest first, at most the last hour. */
  events: HistoryEvent[];
  /** At most the last `seriesSeconds` samples, oldest first. */
  series: HistorySeries;
}

/** What {@link NodeHistory} reads. */
export interface HistorySources {
  /** This node's name. */
  self: string;
  /** The node's clock (timers and sample times). */
  clock: Clock;
  /** The node's stats snapshot (`store`, `http`, `replication`, `membership`, `edge` sections). */
  stats(): Record<string, unknown>;
  /** Every member this node knows. */
  members(): MemberView[];
  /** Requests the dashboard made so far (left out of the request series). */
  dashboardRequests(): number;
}

/** Options of {@link NodeHistory}. */
export interface NodeHistoryOptions {
  /** How long events are kept, ms. @default 3_600_000 */
  eventWindowMs?: number;
  /** Most events kept (older ones go first). @default 2_000 */
  maxEvents?: number;
  /** Per-second samples kept. @default 900 */
  seriesSeconds?: number;
  /** Evictions in one second that make a spike event. @default 100 */
  evictionSpike?: number;
  /** Sampling period, ms. @default 1_000 */
  intervalMs?: number;
}

const COLUMNS = ["requests", "hits", "misses", "bytes", "maxBytes", "lagMs"] as const;

interface Counters {
  requests: number;
  hits: number;
  misses: number;
  evictions: number;
  lagSamples: number;
  refutations: number;
  backlogDrops: number;
  droppedRecords: number;
  edgeHits: number;
  edgeMisses: number;
}

const num = (v: unknown): number => typeof v === "number" && Number.isFinite(v) ? v : 0;
const section = (stats: Record<string, unknown>, name: string): Record<string, unknown> => {
  const s = stats[name];
  return typeof s === "object" && s !== null ? s as Record<string, unknown> : {};
};

/** The last hour of events and 15 minutes of per-second samples of one node. */
export class NodeHistory {
  readonly #src: HistorySources;
  readonly #eventWindowMs: number;
  readonly #maxEvents: number;
  readonly #evictionSpike: number;
  readonly #intervalMs: number;
  readonly #events: HistoryEvent[] = [];
  // One ring per column; `#t[i]` is the time of sample i; `#count` samples ever taken.
  readonly #size: number;
  readonly #t: Float64Array;
  readonly #columns: Record<(typeof COLUMNS)[number] | "edgeHits" | "edgeMisses", Float64Array>;
  #count = 0;
  #edgeSeen = false;
  #prev: Counters | undefined;
  #members = new Map<string, { state: MemberView["state"]; incarnation: number }>();
  #spiking = false;
  #starts = 0;
  #timer: TimerId | undefined;

  /** Creates a history that is empty until {@link NodeHistory.start}. */
  constructor(sources: HistorySources, options: NodeHistoryOptions = {}) {
    this.#src = sources;
    this.#eventWindowMs = options.eventWindowMs ?? 3_600_000;
    this.#maxEvents = options.maxEvents ?? 2_000;
    this.#evictionSpike = options.evictionSpike ?? 100;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#size = options.seriesSeconds ?? 900;
    if (!(this.#size >= 1 && this.#maxEvents >= 1 && this.#intervalMs > 0)) {
      throw new RangeError(
        "Cannot create node history: seriesSeconds, maxEvents and intervalMs must be positive",
      );
    }
    this.#t = new Float64Array(this.#size);
    const ring = () => new Float64Array(this.#size);
    this.#columns = {
      requests: ring(),
      hits: ring(),
      misses: ring(),
      bytes: ring(),
      maxBytes: ring(),
      lagMs: ring(),
      edgeHits: ring(),
      edgeMisses: ring(),
    };
  }

  /**
   * Records this node's start (with its version; a node started again in the same process keeps
   * its history), takes the first reading and samples every second from now on.
   */
  start(): void {
    if (this.#timer !== undefined) return;
    const stats = this.#src.stats();
    const version = typeof stats.version === "string" ? `version ${stats.version}` : "";
    const again = this.#starts++ > 0 ? "started again" : "";
    this.record("start", this.#src.self, [version, again].filter(Boolean).join(", ") || undefined);
    this.#prev = this.#read(stats);
    this.#members.clear();
    for (const m of this.#src.members()) this.#members.set(m.name, m);
    const tick = () => {
      this.sample();
      this.#timer = this.#src.clock.setTimeout(tick, this.#intervalMs);
    };
    this.#timer = this.#src.clock.setTimeout(tick, this.#intervalMs);
  }

  /** Stops sampling (what was recorded stays readable). */
  stop(): void {
    if (this.#timer !== undefined) this.#src.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Adds an event now (the sampler's own events go through here too). */
  record(kind: HistoryEventKind, member: string, detail?: string): void {
    const event: HistoryEvent = { t: this.#src.clock.now(), kind, member };
    if (detail !== undefined) event.detail = detail;
    this.#events.push(event);
    if (this.#events.length > this.#maxEvents) {
      this.#events.splice(0, this.#events.length - this.#maxEvents);
    }
  }

  /** Takes one sample now: counters since the previous one, and membership changes. */
  sample(): void {
    const stats = this.#src.stats();
    const now = this.#read(stats);
    const prev = this.#prev ?? now;
    this.#prev = now;
    const store = section(stats, "store");
    const lag = section(section(stats, "replication"), "lagMs");
    const i = this.#count++ % this.#size;
    const c = this.#columns;
    this.#t[i] = this.#src.clock.now();
    c.requests[i] = Math.max(0, now.requests - prev.requests);
    c.hits[i] = Math.max(0, now.hits - prev.hits);
    c.misses[i] = Math.max(0, now.misses - prev.misses);
    c.bytes[i] = num(store.bytes);
    c.maxBytes[i] = num(store.maxBytes);
    c.lagMs[i] = now.lagSamples > prev.lagSamples ? num(lag.p99) : 0;
    this.#edgeSeen ||= typeof stats.edge === "object" && stats.edge !== null;
    c.edgeHits[i] = Math.max(0, now.edgeHits - prev.edgeHits);
    c.edgeMisses[i] = Math.max(0, now.edgeMisses - prev.edgeMisses);
    this.#counterEvents(prev, now);
    this.#memberEvents();
  }

  /** The events of the last hour and the samples kept, oldest first. */
  snapshot(): HistorySnapshot {
    const cutoff = this.#src.clock.now() - this.#eventWindowMs;
    const first = this.#events.findIndex((e) => e.t >= cutoff);
    this.#events.splice(0, first < 0 ? this.#events.length : first);
    const n = Math.min(this.#count, this.#size);
    const order = Array.from({ length: n }, (_, k) => (this.#count - n + k) % this.#size);
    const pick = (ring: Float64Array) => order.map((i) => ring[i]);
    const series: HistorySeries = {
      t: pick(this.#t),
      requests: pick(this.#columns.requests),
      hits: pick(this.#columns.hits),
      misses: pick(this.#columns.misses),
      bytes: pick(this.#columns.bytes),
      maxBytes: pick(this.#columns.maxBytes),
      lagMs: pick(this.#columns.lagMs),
    };
    if (this.#edgeSeen) {
      series.edgeHits = pick(this.#columns.edgeHits);
      series.edgeMisses = pick(this.#columns.edgeMisses);
    }
    return { events: [...this.#events], series };
  }

  #read(stats: Record<string, unknown>): Counters {
    const store = section(stats, "store");
    const replication = section(stats, "replication");
    const edge = section(stats, "edge");
    return {
      requests: num(section(stats, "http").requests) - this.#src.dashboardRequests(),
      hits: num(store.hits),
      misses: num(store.misses),
      evictions: num(store.evictions),
      lagSamples: num(section(replication, "lagMs").samples),
      refutations: num(section(stats, "membership").refutations),
      backlogDrops: num(replication.backlogDrops),
      droppedRecords: num(replication.droppedRecords),
      edgeHits: num(edge.hits),
      edgeMisses: num(edge.misses),
    };
  }

  #counterEvents(prev: Counters, now: Counters): void {
    const self = this.#src.self;
    if (now.refutations > prev.refutations) {
      this.record("refute", self, "this node refuted a suspicion about itself");
    }
    if (now.backlogDrops > prev.backlogDrops) {
      const drops = now.backlogDrops - prev.backlogDrops;
      const records = now.droppedRecords - prev.droppedRecords;
      this.record("backlog-drop", self, `${drops} replication backlog(s), ${records} records`);
    }
    const evicted = now.evictions - prev.evictions;
    const spiking = evicted >= this.#evictionSpike;
    if (spiking && !this.#spiking) this.record("eviction-spike", self, `${evicted} evictions/s`);
    this.#spiking = spiking;
  }

  #memberEvents(): void {
    const seen = new Set<string>();
    for (const m of this.#src.members()) {
      seen.add(m.name);
      const before = this.#members.get(m.name);
      this.#members.set(m.name, { state: m.state, incarnation: m.incarnation });
      const incarnation = `incarnation ${m.incarnation}`;
      if (before === undefined) {
        this.record(m.state === "alive" ? "join" : m.state === "left" ? "leave" : m.state, m.name);
      } else if (before.state !== m.state) {
        if (m.state === "alive" && before.state === "suspect") {
          this.record("refute", m.name, incarnation);
        } else if (m.state === "alive") this.record("join", m.name, `rejoined, ${incarnation}`);
        else this.record(m.state === "left" ? "leave" : m.state, m.name, incarnation);
      } else if (
        m.state === "alive" && m.incarnation > before.incarnation && m.name !== this.#src.self
      ) {
        // Suspected and refuted between two samples: only the incarnation tells.
        this.record("refute", m.name, incarnation);
      }
    }
    for (const name of this.#members.keys()) if (!seen.has(name)) this.#members.delete(name);
  }
}
