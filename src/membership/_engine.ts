/**
 * The one assembly of the membership engine: the {@link EngineContext} (member table, broadcast
 * queue, packet I/O, awareness, ack registry, timers, counters), the protocol loops, and the
 * handlers of the transport's packets and streams. `Memberlist` is the public face over it; the
 * simulator's `SimMember` runs the same assembly, so what a simulation measures is the engine.
 * Internal.
 *
 * @module
 */

import type { Transport } from "../transport/transport.ts";
import type { Clock } from "../util/clock.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import type { Random } from "../util/random.ts";
import { AckRegistry } from "./_ack_registry.ts";
import type { EngineContext } from "./_context.ts";
import { applyEffects } from "./_effects.ts";
import { type MembershipEncryption, safeDelegate } from "./_hooks.ts";
import { handlePacket } from "./_inbound_packets.ts";
import { type LoopOptions, ProtocolLoops } from "./_loops.ts";
import { PacketIO } from "./_packet_io.ts";
import { FailedMembers } from "./_seeds.ts";
import { handleStream, type StreamState } from "./_streams.ts";
import { TimerSet } from "./_timers.ts";
import { Awareness } from "./awareness.ts";
import { BroadcastQueue } from "./broadcast_queue.ts";
import type { MembershipConfig } from "./config.ts";
import type { MembershipDelegate, MembershipEvents } from "./delegate.ts";
import type { MemberInterner } from "./member_interner.ts";
import { type MembershipEffect, MemberTable } from "./node_state.ts";
import { createMembershipStats } from "./stats.ts";

/** What {@link Engine} is built from. */
export interface EngineOptions {
  /** Our node name. */
  name: string;
  /** Validated protocol configuration. */
  config: MembershipConfig;
  /** Packets and streams; already bound (its local port is the bind port). */
  transport: Transport;
  /** Time source of every timer. */
  clock: Clock;
  /** Randomness of probe order, targets and jitter. */
  random: Random;
  /** Where protocol events are logged (scoped to the node here). @default silentLogger */
  logger?: Logger;
  /** Our advertised IP bytes and port. */
  self: { readonly addr: Uint8Array; readonly port: number };
  /** Application hooks. @default none */
  delegate?: MembershipDelegate;
  /** Membership change notifications. @default none */
  events?: MembershipEvents;
  /** Sees every non-empty batch of effects before it is carried out. @default none */
  observer?: (effects: readonly MembershipEffect[]) => void;
  /** Encryption hooks of an installed keyring. @default undefined (plaintext) */
  encryption?: MembershipEncryption;
  /** Shares member names and byte arrays with other tables. @default none */
  intern?: MemberInterner;
  /** Seeds, reconnect settings and the join function of the loops. */
  loops: Omit<LoopOptions, "failed">;
}

/**
 * The membership engine, assembled; nothing runs until {@link Engine.listen} and
 * {@link Engine.startLoops}.
 */
export class Engine {
  /** The state and services every part of the engine shares. */
  readonly ctx: EngineContext;
  readonly #events: MembershipEvents;
  readonly #observer: EngineOptions["observer"];
  readonly #failed = new FailedMembers();
  readonly #loops: ProtocolLoops;
  readonly #streams: StreamState = { pushPulls: 0 };
  #closed = false;
  #seqNo = 0;

  /** Assembles the engine; `options.config` must be validated already. */
  constructor(options: EngineOptions) {
    const { name, config, clock, random, transport, encryption } = options;
    this.#events = options.events ?? {};
    this.#observer = options.observer;
    const log = (options.logger ?? silentLogger).child({ node: name });
    const stats = createMembershipStats();
    const delegate = safeDelegate(options.delegate, (hook, error) => {
      stats.delegateErrors++;
      log.error("Delegate hook threw", { hook, error });
    });
    const timers = new TimerSet(clock);
    const table = new MemberTable({
      localName: name,
      config,
      clock,
      random,
      onEffects: (effects) => this.apply(effects),
      intern: options.intern,
    });
    const queue = new BroadcastQueue({
      numNodes: () => table.numNodes,
      retransmitMult: config.retransmitMult,
    });
    const io = new PacketIO({ transport, config, queue, delegate, stats, log, encryption });
    const isClosed = () => this.#closed;
    this.ctx = {
      name,
      config,
      clock,
      random,
      log,
      table,
      queue,
      awareness: new Awareness(config.awarenessMaxMultiplier),
      acks: new AckRegistry(timers),
      stats,
      timers,
      transport,
      io,
      self: options.self,
      bindPort: transport.localAddress.port,
      get closed() {
        return isClosed();
      },
      nextSeqNo: () => (this.#seqNo = (this.#seqNo + 1) >>> 0),
      apply: (effects) => this.apply(effects),
      delegate,
      encryption,
    };
    this.#loops = new ProtocolLoops(this.ctx, { ...options.loops, failed: this.#failed });
  }

  /** Whether {@link Engine.close} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Carries out the member table's effects (broadcasts, events, awareness, failed members). */
  apply(effects: MembershipEffect[]): void {
    if (effects.length === 0) return;
    this.#observer?.(effects);
    applyEffects(this.ctx, effects, this.#events, this.#failed);
  }

  /** Starts answering the transport's packets and streams. */
  listen(): void {
    const ctx = this.ctx;
    ctx.transport.onPacket((packet) => void handlePacket(ctx, packet));
    ctx.transport.onStream((conn) => void handleStream(ctx, this.#streams, conn));
  }

  /** Schedules the probe, gossip, push/pull, seed and reconnect loops (first ticks staggered). */
  startLoops(): void {
    this.#loops.start();
  }

  /** Stops every loop and timer and closes the transport; sends nothing. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const ctx = this.ctx;
    ctx.timers.close();
    ctx.acks.clear();
    ctx.table.close();
    await ctx.transport.close();
  }
}
