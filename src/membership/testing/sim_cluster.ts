/**
 * A cluster of {@link SimMember}s on one {@link MemoryNetwork} and {@link VirtualClock}, for
 * simulations with thousands of members: warm-started (already converged) or joined through
 * the protocol, with every state change reported to listeners as it happens (virtual time,
 * observer, effect), crashes, slow members and traffic totals. Deterministic for a seed: one
 * seeded stream for the network and one per member.
 *
 * ```ts
 * const cluster = new SimCluster({ seed: 7 });
 * cluster.addMany(100);
 * cluster.warmStart();
 * cluster.startAll();
 * await cluster.run(10_000);
 * ```
 *
 * @module
 */

import { MemoryNetwork, runFor } from "../../transport/mod.ts";
import { VirtualClock } from "../../util/clock.ts";
import { SeededRandom } from "../../util/random.ts";
import { lanConfig, type MembershipConfig } from "../config.ts";
import { SharedMemberInterner } from "../member_interner.ts";
import type { MembershipEffect } from "../node_state.ts";
import { SimMember, type WarmPeer } from "./sim_member.ts";
import { SimTransport } from "./sim_transport.ts";

/** Options of {@link SimCluster}. */
export interface SimClusterOptions {
  /** Protocol config of every member. @default lanConfig() */
  config?: MembershipConfig;
  /** Seed of every random draw. @default 1 */
  seed?: number;
  /** One-way latency, ms. @default 1 */
  latencyMs?: number;
  /** Extra latency uniform in [0, jitterMs), ms. @default 1 */
  jitterMs?: number;
  /** Packet loss on every link, 0..1. @default 0 */
  loss?: number;
  /** Reconnect period of every member (0 disables). @default 30000 */
  reconnectInterval?: number;
  /** Push/pull schedule of every member (see `SimMemberOptions.pushPullPhase`). @default "engine" */
  pushPullPhase?: "engine" | "steady";
}

/** One member of the cluster. */
export interface SimNode {
  /** Node name, `n<index>`. */
  readonly name: string;
  /** Creation index. */
  readonly index: number;
  /** The engine. */
  readonly member: SimMember;
  /** Its transport (stream counters, processing delay). */
  readonly transport: SimTransport;
  /** Whether the cluster killed it. */
  crashed: boolean;
}

/** A state change seen by one member. */
export type EffectListener = (at: number, observer: SimNode, effect: MembershipEffect) => void;

/** Traffic and protocol totals over a set of members. */
export interface SimTotals {
  /** Datagrams sent. */
  packetsOut: number;
  /** Bytes of datagrams sent. */
  bytesOut: number;
  /** Bytes written to streams (push/pull, TCP pings). */
  streamBytesOut: number;
  /** Probes started. */
  probes: number;
  /** Suspicions started. */
  suspicions: number;
  /** Members marked dead. */
  deaths: number;
  /** Refutations. */
  refutations: number;
  /** Push/pulls completed (initiator side). */
  pushPulls: number;
}

/** N simulated members on one in-memory network and virtual clock. */
export class SimCluster {
  /** The clock of the network and every member; starts at 0. */
  readonly clock: VirtualClock = new VirtualClock(0);
  /** The network. */
  readonly net: MemoryNetwork;
  /** Members in creation order. */
  readonly nodes: SimNode[] = [];
  readonly #byName = new Map<string, SimNode>();
  readonly #config: MembershipConfig;
  readonly #seed: number;
  readonly #reconnect: number;
  readonly #pushPullPhase: "engine" | "steady";
  // One copy of every member's name and address for all the tables (N² records otherwise).
  readonly #intern = new SharedMemberInterner();
  #listeners: EffectListener[] = [];

  /** Creates an empty cluster. */
  constructor(options: SimClusterOptions = {}) {
    this.#config = options.config ?? lanConfig();
    this.#seed = options.seed ?? 1;
    this.#reconnect = options.reconnectInterval ?? 30_000;
    this.#pushPullPhase = options.pushPullPhase ?? "engine";
    this.net = new MemoryNetwork({
      clock: this.clock,
      random: new SeededRandom(this.#seed * 7919 + 17),
      latencyMs: options.latencyMs ?? 1,
      jitterMs: options.jitterMs ?? 1,
      loss: options.loss ?? 0,
      logger: () => {},
    });
  }

  /** Virtual time, ms since the cluster was created. */
  get now(): number {
    return this.clock.now();
  }

  /** The member called `name`; throws a `RangeError` when there is none. */
  node(name: string): SimNode {
    const node = this.#byName.get(name);
    if (!node) throw new RangeError(`Cannot find sim node: received ${name}`);
    return node;
  }

  /** Members not crashed. */
  live(): SimNode[] {
    return this.nodes.filter((n) => !n.crashed);
  }

  /**
   * Creates one member (not started) named `n<index>` at `10.a.b.c:7946`, with `overrides`
   * of the cluster config.
   */
  add(overrides: Partial<MembershipConfig> = {}): SimNode {
    const index = this.nodes.length;
    const name = `n${index}`;
    const inner = this.net.attach({ host: ipOf(index), port: 7946 });
    const transport = new SimTransport(inner);
    const node: SimNode = {
      name,
      index,
      crashed: false,
      transport,
      member: new SimMember({
        name,
        transport,
        clock: inner.clock,
        config: { ...this.#config, ...overrides },
        random: new SeededRandom(this.#seed * 1_000_003 + index),
        reconnectInterval: this.#reconnect,
        pushPullPhase: this.#pushPullPhase,
        intern: this.#intern,
        // The start-up alive (inside this constructor) comes before the node is registered.
        observer: (member, effects) => this.#emit(this.#byName.get(member), effects),
      }),
    };
    this.nodes.push(node);
    this.#byName.set(name, node);
    return node;
  }

  /** Creates `count` members; returns them. */
  addMany(count: number, overrides: Partial<MembershipConfig> = {}): SimNode[] {
    return Array.from({ length: count }, () => this.add(overrides));
  }

  /** Fills every given member's table with all of them, alive (see `SimMember.warmStart`). */
  warmStart(nodes: readonly SimNode[] = this.nodes): void {
    const peers: WarmPeer[] = nodes.map((n) => ({
      name: n.name,
      // Kept by every table (one array per member, shared through the interner).
      addr: this.#intern.bytes(ipBytes(n.index)),
      port: 7946,
    }));
    for (const n of nodes) n.member.warmStart(peers);
  }

  /** Starts the given members (default: all not started). */
  startAll(nodes: readonly SimNode[] = this.nodes): void {
    for (const n of nodes) n.member.start();
  }

  /** Adds a listener for every effect any member applies; returns its removal. */
  onEffect(listener: EffectListener): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** Runs the virtual clock for `ms`, settling promises every `stepMs`. */
  async run(ms: number, stepMs = 1): Promise<void> {
    await runFor(this.clock, ms, stepMs);
  }

  /**
   * Runs until `done()` holds (checked every `checkEveryMs`) or `maxMs` passed; resolves with
   * the time it took, or `undefined`.
   */
  async until(done: () => boolean, maxMs: number, checkEveryMs = 50): Promise<number | undefined> {
    const start = this.now;
    for (;;) {
      if (done()) return this.now - start;
      if (this.now - start >= maxMs) return undefined;
      await this.run(Math.min(checkEveryMs, maxMs - (this.now - start)));
    }
  }

  /** Kills a member like SIGKILL (its engine stops with it). */
  kill(name: string): void {
    const node = this.node(name);
    node.crashed = true;
    this.net.kill(node.transport.localAddress);
    void node.member.shutdown();
  }

  /** Sums counters over `nodes` (default: all). */
  totals(nodes: readonly SimNode[] = this.nodes): SimTotals {
    const t: SimTotals = {
      packetsOut: 0,
      bytesOut: 0,
      streamBytesOut: 0,
      probes: 0,
      suspicions: 0,
      deaths: 0,
      refutations: 0,
      pushPulls: 0,
    };
    for (const n of nodes) {
      const s = n.member.stats;
      t.packetsOut += s.packetsOut;
      t.bytesOut += s.bytesOut;
      t.streamBytesOut += n.transport.streams.bytesOut;
      t.probes += s.probes;
      t.suspicions += s.suspicions;
      t.deaths += s.deaths;
      t.refutations += s.refutations;
      t.pushPulls += s.pushPullsOut;
    }
    return t;
  }

  /** Shuts every member down and closes the network. */
  async close(): Promise<void> {
    for (const n of this.nodes) await n.member.shutdown();
    await this.net.close();
  }

  #emit(node: SimNode | undefined, effects: readonly MembershipEffect[]): void {
    if (node === undefined) return;
    const at = this.clock.now();
    for (const listener of this.#listeners) {
      for (const effect of effects) listener(at, node, effect);
    }
  }
}

/** The IPv4 literal of member `index`: 10.x.y.z with x.y.z = index + 1. */
export function ipOf(index: number): string {
  return ipBytes(index).join(".");
}

function ipBytes(index: number): Uint8Array {
  const i = index + 1;
  return Uint8Array.of(10, (i >> 16) & 255, (i >> 8) & 255, i & 255);
}
