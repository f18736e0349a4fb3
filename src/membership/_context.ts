/**
 * What the parts of the engine (packet handling, probes, streams) share: the engine's state and
 * services, assembled once, in `_engine.ts`. Internal.
 *
 * @module
 */

import type { Transport } from "../transport/transport.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { Random } from "../util/random.ts";
import type { AckRegistry } from "./_ack_registry.ts";
import type { MembershipEncryption, SafeDelegate } from "./_hooks.ts";
import type { PacketIO } from "./_packet_io.ts";
import type { TimerSet } from "./_timers.ts";
import type { Awareness } from "./awareness.ts";
import type { BroadcastQueue } from "./broadcast_queue.ts";
import type { MembershipConfig } from "./config.ts";
import type { MembershipEffect, MemberTable } from "./node_state.ts";
import type { MembershipStats } from "./stats.ts";

/** The engine's shared state and services. */
export interface EngineContext {
  /** Our node name. */
  readonly name: string;
  /** Validated protocol configuration. */
  readonly config: MembershipConfig;
  readonly clock: Clock;
  readonly random: Random;
  readonly log: Logger;
  readonly table: MemberTable;
  readonly queue: BroadcastQueue;
  readonly awareness: Awareness;
  readonly acks: AckRegistry;
  readonly stats: MembershipStats;
  readonly timers: TimerSet;
  readonly transport: Transport;
  readonly io: PacketIO;
  /** Our advertised IP bytes and port (what goes into Source* fields and our alive). */
  readonly self: { readonly addr: Uint8Array; readonly port: number };
  /** Port substituted for port 0 in alive messages and push/pull records. */
  readonly bindPort: number;
  /** Whether the engine was shut down. */
  readonly closed: boolean;
  /** Next ping sequence number (u32, wrapping). */
  nextSeqNo(): number;
  /** Carries out the member table's effects (broadcasts, events, awareness). */
  apply(effects: MembershipEffect[]): void;
  /** The application's hooks, each wrapped so a throw is logged, counted and replaced. */
  readonly delegate: SafeDelegate;
  /** Encryption hooks, when a keyring is installed. */
  readonly encryption: MembershipEncryption | undefined;
}
