/**
 * The only door between the membership protocol and the application, after memberlist's
 * `Delegate` and `EventDelegate`: the application supplies node metadata, receives user
 * messages, contributes broadcasts and a state blob for push/pull, and hears about members
 * joining, leaving and changing. Membership knows nothing of what these bytes mean.
 *
 * Every method is optional and is called synchronously from the protocol loops; it must be quick
 * and must not throw (a throw is caught, logged and counted, and the protocol goes on).
 *
 * @module
 */

import type { Address } from "../transport/transport.ts";
import { bytesToIp } from "./_ip.ts";
import { type Member, NodeState } from "./node_types.ts";

/** Application hooks into the protocol (memberlist's `Delegate`). */
export interface MembershipDelegate {
  /**
   * Metadata announced with our alive messages, at most `limit` (512) bytes. Read at start and
   * at each `updateNode`. @default empty
   */
  nodeMeta?(limit: number): Uint8Array;
  /** A user message arrived (UDP best-effort or TCP reliable, or piggybacked gossip). */
  notifyMessage?(payload: Uint8Array): void;
  /**
   * Application broadcasts to piggyback on gossip, in the space memberlist's own messages left.
   * Each returned message costs `overhead` bytes plus its length; the total must stay within
   * `limit`. Keep the retransmit bookkeeping in the application (e.g. its own BroadcastQueue).
   */
  getBroadcasts?(overhead: number, limit: number): Uint8Array[];
  /** Our application state for a push/pull (`join` true when a node joins). @default empty */
  localState?(join: boolean): Uint8Array;
  /** A peer's application state from a push/pull (only called when it is non-empty). */
  mergeRemoteState?(state: Uint8Array, join: boolean): void;
}

/** Membership change notifications (memberlist's `EventDelegate`). */
export interface MembershipEvents {
  /** A member became alive (also fired once for ourselves at start, as memberlist does). */
  onJoin?(member: MemberSnapshot): void;
  /** A member was declared dead (`state: "dead"`) or left gracefully (`state: "left"`). */
  onLeave?(member: MemberSnapshot): void;
  /** An alive member's metadata changed. */
  onUpdate?(member: MemberSnapshot): void;
}

/** A member's state by name. */
export type MemberStateName = "alive" | "suspect" | "dead" | "left";

/** What the application sees of one member (a snapshot). */
export interface MemberSnapshot {
  /** Unique node name. */
  readonly name: string;
  /** Gossip address for dialing: the IP as a literal, and the port. */
  readonly address: Address;
  /** The IP bytes exactly as the member advertises them (4 or 16). */
  readonly addr: Uint8Array;
  /** Application metadata. */
  readonly meta: Uint8Array;
  /** Current state. */
  readonly state: MemberStateName;
  /** Last known incarnation. */
  readonly incarnation: number;
  /** Clock time of the last state change, epoch ms. */
  readonly stateChange: number;
  /** `[pMin, pMax, pCur, dMin, dMax, dCur]`. */
  readonly vsn: Uint8Array;
}

const STATE_NAMES: Record<NodeState, MemberStateName> = {
  [NodeState.Alive]: "alive",
  [NodeState.Suspect]: "suspect",
  [NodeState.Dead]: "dead",
  [NodeState.Left]: "left",
};

/** Converts a member table snapshot to a {@link MemberSnapshot}. */
export function memberSnapshot(m: Member): MemberSnapshot {
  return {
    name: m.name,
    address: { host: bytesToIp(m.addr) ?? "", port: m.port },
    addr: m.addr,
    meta: m.meta,
    state: STATE_NAMES[m.state],
    incarnation: m.incarnation,
    stateChange: m.stateChange,
    vsn: m.vsn,
  };
}
