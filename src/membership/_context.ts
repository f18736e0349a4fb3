/**
 * What the parts of the engine (packet handling, probes, streams) share: the engine's state and
 * services, assembled once by `Memberlist`. Internal.
 *
 * @module
 */

import type { Transport } from "../transport/transport.ts";
import type { Clock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import type { Random } from "../util/random.ts";
import type { AckRegistry } from "./_ack_registry.ts";
import type { PacketIO } from "./_packet_io.ts";
import type { TimerSet } from "./_timers.ts";
import type { Awareness } from "./awareness.ts";
import type { BroadcastQueue } from "./broadcast_queue.ts";
import type { MembershipConfig } from "./config.ts";
import type { DecryptHook, EncryptHook, StreamSealer } from "./codec/mod.ts";
import type { MembershipDelegate } from "./delegate.ts";
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

/**
 * Hooks that plug a keyring in (AES-GCM as §4.5 describes; the keyring itself lives outside the
 * engine). With them, `gossipVerifyOutgoing` decides whether we encrypt and
 * `gossipVerifyIncoming` whether we refuse plaintext.
 */
export interface MembershipEncryption {
  /** Seals a datagram; the AAD is the label bytes. */
  encryptPacket: EncryptHook;
  /** Opens a datagram; rejects when no key authenticates it. */
  decryptPacket: DecryptHook;
  /** Seals stream messages into `[0x0A][len][sealed]` frames. */
  streamSealer: StreamSealer;
  /** Opens stream frames; rejects when no key authenticates them. */
  decryptStream: DecryptHook;
  /** Bytes encryption adds to a datagram (29 for version 1, 45 for 0), for packet budgets. */
  packetOverhead: number;
}

/** {@link MembershipDelegate} with defaults filled in and errors contained. */
export interface SafeDelegate {
  nodeMeta(limit: number): Uint8Array;
  notifyMessage(payload: Uint8Array): void;
  getBroadcasts(overhead: number, limit: number): Uint8Array[];
  localState(join: boolean): Uint8Array;
  mergeRemoteState(state: Uint8Array, join: boolean): void;
}

/** Wraps `delegate` so that missing hooks do nothing and throwing hooks are contained. */
export function safeDelegate(
  delegate: MembershipDelegate | undefined,
  onError: (hook: string, error: unknown) => void,
): SafeDelegate {
  const d = delegate ?? {};
  const empty = new Uint8Array(0);
  function guard<T>(hook: string, fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (error) {
      onError(hook, error);
      return fallback;
    }
  }
  return {
    nodeMeta: (limit) => guard("nodeMeta", () => d.nodeMeta?.(limit) ?? empty, empty),
    notifyMessage: (payload) => guard("notifyMessage", () => d.notifyMessage?.(payload), undefined),
    getBroadcasts: (overhead, limit) =>
      guard("getBroadcasts", () => d.getBroadcasts?.(overhead, limit) ?? [], []),
    localState: (join) => guard("localState", () => d.localState?.(join) ?? empty, empty),
    mergeRemoteState: (state, join) =>
      guard("mergeRemoteState", () => d.mergeRemoteState?.(state, join), undefined),
  };
}
