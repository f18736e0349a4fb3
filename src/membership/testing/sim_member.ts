/**
 * One member for large simulations: the engine's own assembly (`../_engine.ts`, the one
 * `Memberlist` runs: member table, broadcast queue, packet I/O, probe/gossip/push-pull loops,
 * inbound packet and stream handlers, awareness, ack registry), plus two things a simulation of
 * thousands of members needs and the public API does not offer:
 *
 * - {@link SimMember.warmStart}: fill the member table with an already-converged cluster
 *   without queuing a broadcast per member. Through the protocol, every member learning N
 *   others queues N alive broadcasts, each retransmitted `4 × ceil(log10(N + 1))` times, so
 *   building a warm N-member cluster costs O(N² log N) packets; this costs N table inserts.
 * - an effect observer: every batch of state changes (suspicions, deaths, joins,
 *   refutations) is reported with the node's name, so measurements are event-driven instead
 *   of polling N × N views.
 *
 * There are no seeds and no join retries (the simulator joins explicitly); the reconnect loop
 * runs as in `Memberlist`. One schedule may differ, on request (`pushPullPhase: "steady"`): the
 * engine staggers its first push/pull over the unscaled `pushPullInterval` (memberlist waits that
 * stagger plus one scaled period), so N members started together all exchange full state within
 * the first 30 s — O(N²) bytes. A warm cluster that has been up for a while has its push/pull
 * phases spread over the scaled period instead; "steady" runs the engine's own push/pull on that
 * spread schedule (first after a uniform draw in [0, scaled period), then every scaled period),
 * with the engine's periodic loop switched off. Everything else is the engine's, unchanged.
 *
 * @module
 */

import type { Address, Transport } from "../../transport/transport.ts";
import type { Clock } from "../../util/clock.ts";
import type { Logger } from "../../util/log.ts";
import type { Random } from "../../util/random.ts";
import { addressOf, Engine, type EngineContext, ipToBytes, pushPull } from "../engine.ts";
import { buildVsn, type MembershipConfig, validateMembershipConfig } from "../config.ts";
import { pushPullScale } from "../formulas.ts";
import type { MembershipDelegate } from "../delegate.ts";
import type { MemberInterner } from "../member_interner.ts";
import type { MembershipEffect } from "../node_state.ts";
import type { MembershipStats } from "../stats.ts";

/** Receives every batch of effects a member applies, before it is carried out. */
export type EffectObserver = (member: string, effects: readonly MembershipEffect[]) => void;

/** Options of {@link SimMember}. */
export interface SimMemberOptions {
  /** Unique node name. */
  name: string;
  /** Its transport, already attached; its address is advertised. */
  transport: Transport;
  /** The node's clock (a pause-aware node clock of the memory network). */
  clock: Clock;
  /** Protocol config (validated here). */
  config: MembershipConfig;
  /** The node's randomness. */
  random: Random;
  /** Sees every effect batch. @default none */
  observer?: EffectObserver;
  /** Application hooks. @default none */
  delegate?: MembershipDelegate;
  /** Engine logger. @default silentLogger */
  logger?: Logger;
  /** Period of reconnect attempts to failed members, as `Memberlist`'s. @default 30000 */
  reconnectInterval?: number;
  /**
   * `engine`: the engine's push/pull loop as is. `steady`: push/pull phases spread over the
   * scaled period, as in a cluster that has run for a while (see the module doc).
   * @default "engine"
   */
  pushPullPhase?: "engine" | "steady";
  /**
   * Shares member names and byte arrays with the other members' tables (one per simulation).
   * @default none
   */
  intern?: MemberInterner;
}

/** A member of the warm cluster: name, IP bytes and port. */
export interface WarmPeer {
  /** Node name. */
  name: string;
  /** IPv4 bytes. */
  addr: Uint8Array;
  /** Port. */
  port: number;
}

const EMPTY = new Uint8Array(0);

/** The membership engine, assembled for simulation. */
export class SimMember {
  /** Node name. */
  readonly name: string;
  /** Advertised address (the transport's). */
  readonly address: Readonly<Address>;
  readonly #engine: Engine;
  readonly #ctx: EngineContext;
  readonly #vsn: Uint8Array;
  /** The push/pull period the harness drives (0 = the engine's own loop does it). */
  readonly #steadyPushPull: number;
  #started = false;

  /** Validates the config and assembles the engine (nothing runs until {@link start}). */
  constructor(options: SimMemberOptions) {
    const steady = options.pushPullPhase === "steady" ? options.config.pushPullInterval : 0;
    this.#steadyPushPull = steady;
    const config = validateMembershipConfig({
      ...options.config,
      ...(steady > 0 ? { pushPullInterval: 0 } : {}),
    });
    const { name, transport, observer } = options;
    const address = transport.localAddress;
    const addr = ipToBytes(address.host);
    if (!addr) {
      throw new TypeError(
        `Cannot create sim member: address must be an IP: received ${address.host}`,
      );
    }
    this.name = name;
    this.address = Object.freeze({ ...address });
    this.#vsn = buildVsn(config);
    this.#engine = new Engine({
      name,
      config,
      transport,
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      self: { addr, port: address.port },
      delegate: options.delegate,
      observer: observer && ((effects) => observer(name, effects)),
      intern: options.intern,
      loops: {
        seeds: [],
        seedRetry: {},
        reconnectInterval: options.reconnectInterval ?? 30_000,
        reconnectTimeout: 3_600_000,
        joined: () => true,
        join: (seeds) => this.#joinAll(seeds),
      },
    });
    this.#ctx = this.#engine.ctx;
    // Announce ourselves (incarnation 1) so the table is never empty.
    this.#engine.apply(
      this.#ctx.table.setAlive({ addr, port: address.port, meta: EMPTY, vsn: this.#vsn }),
    );
  }

  /** Live protocol counters. */
  get stats(): Readonly<MembershipStats> {
    return this.#ctx.stats;
  }

  /** Lifeguard local health score (0 healthy). */
  get healthScore(): number {
    return this.#ctx.awareness.score;
  }

  /** Members in the table, any state, self included. */
  get numNodes(): number {
    return this.#ctx.table.numNodes;
  }

  /** Members held alive (not suspect, dead or left), self included. */
  get numAlive(): number {
    return this.#ctx.table.numAlive();
  }

  /** Broadcasts waiting in the queue. */
  get queued(): number {
    return this.#ctx.queue.size;
  }

  /** Whether {@link shutdown} ran. */
  get closed(): boolean {
    return this.#engine.closed;
  }

  /** State name of `member` in our table (`undefined` when unknown). */
  stateOf(member: string): "alive" | "suspect" | "dead" | "left" | undefined {
    const m = this.#ctx.table.get(member);
    return m && (["alive", "suspect", "dead", "left"] as const)[m.state];
  }

  /**
   * Inserts `peers` as alive members at incarnation 1 — what the table holds once a cluster
   * has converged — without broadcasting or notifying (a warm start). `peers`' address arrays
   * are kept, not copied: never modify them. Call before {@link start}.
   */
  warmStart(peers: readonly WarmPeer[]): void {
    if (this.#started) throw new Error("Cannot warm-start a sim member: already started");
    this.#ctx.table.loadConverged(peers, 1, this.#vsn);
    // A converged cluster has nothing left to gossip, not even our own start-up alive.
    this.#ctx.queue.reset();
  }

  /** Starts answering packets and streams and starts the loops (staggered as in the engine). */
  start(): void {
    if (this.#started || this.#engine.closed) {
      throw new Error("Cannot start a sim member twice");
    }
    this.#started = true;
    const ctx = this.#ctx;
    this.#engine.listen();
    this.#engine.startLoops();
    if (this.#steadyPushPull > 0) {
      const period = () => pushPullScale(this.#steadyPushPull, ctx.table.numNodes);
      ctx.timers.after(Math.floor(ctx.random.next() * period()), () => void this.#pushPull(period));
    }
  }

  /** Joins through `seed` with a push/pull (join = true); rejects when it fails. */
  join(seed: Address): Promise<void> {
    return pushPull(this.#ctx, seed, true);
  }

  /** Stops every loop and timer and closes the transport. Idempotent. */
  shutdown(): Promise<void> {
    return this.#engine.close();
  }

  /** One periodic push/pull with a random alive member, as the engine's loop does it. */
  async #pushPull(period: () => number): Promise<void> {
    const ctx = this.#ctx;
    ctx.timers.after(period(), () => void this.#pushPull(period));
    const target = ctx.table.pushPullTarget();
    const address = target && addressOf(target);
    if (!address) return;
    try {
      await pushPull(ctx, address, false);
    } catch (error) {
      ctx.log.warn("Push/pull failed", { member: target!.name, error });
    }
  }

  async #joinAll(seeds: Address[]): Promise<number> {
    const results = await Promise.allSettled(seeds.map((s) => pushPull(this.#ctx, s, true)));
    return results.filter((r) => r.status === "fulfilled").length;
  }
}
