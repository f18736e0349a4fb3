/**
 * The vocabulary of the membership state machine: member states as numbered on the wire, the
 * member record, the decoded-message inputs the rules take, the effects they return, and the
 * small pure checks the probe, gossip and push/pull code use. The rules themselves are in
 * `node_state.ts`, which re-exports everything here.
 *
 * @module
 */

/** A member's state, numbered as on the wire. */
export const NodeState = { Alive: 0, Suspect: 1, Dead: 2, Left: 3 } as const;
/** A member's state: 0 alive, 1 suspect, 2 dead, 3 left. */
export type NodeState = (typeof NodeState)[keyof typeof NodeState];

/** What the table knows about one member (a snapshot; the table never mutates it). */
export interface Member {
  /** Unique node name, the identity. */
  readonly name: string;
  /** IP address bytes exactly as advertised (4 or 16 bytes). */
  readonly addr: Uint8Array;
  /** Gossip port. */
  readonly port: number;
  /** Application metadata (≤ 512 bytes). */
  readonly meta: Uint8Array;
  /** Current state. */
  readonly state: NodeState;
  /** Last known incarnation (u32). */
  readonly incarnation: number;
  /** Clock time of the last state change, epoch ms (0 = never). */
  readonly stateChange: number;
  /** `[pMin, pMax, pCur, dMin, dMax, dCur]`, zeros when never learnt. */
  readonly vsn: Uint8Array;
}

/** An alive message (also a join announcement and an "alive" push/pull record). */
export interface AliveInput {
  /** Incarnation claimed by the member. */
  incarnation: number;
  /** Member name. */
  node: string;
  /** IP bytes (4 or 16). */
  addr: Uint8Array;
  /** Port (the engine substitutes its bind port for 0 before calling). */
  port: number;
  /** Metadata. */
  meta: Uint8Array;
  /** Version vector, normally 6 bytes. */
  vsn: Uint8Array;
}

/** A suspect or dead message. For dead, `from === node` means a graceful leave. */
export interface SuspectInput {
  /** Incarnation of the accused the accuser knows. */
  incarnation: number;
  /** Accused member. */
  node: string;
  /** Accuser. */
  from: string;
}

/** A dead message; `from === node` means the member left. */
export type DeadInput = SuspectInput;

/** One member record of a push/pull exchange. */
export interface PushNodeRecord {
  /** Member name. */
  name: string;
  /** IP bytes. */
  addr: Uint8Array;
  /** Port. */
  port: number;
  /** Metadata. */
  meta: Uint8Array;
  /** Incarnation. */
  incarnation: number;
  /** State 0..3 (other values are ignored by {@link MemberTable.mergeState}). */
  state: number;
  /** Version vector. */
  vsn: Uint8Array;
}

/** A message to queue on the broadcast queue. */
export type GossipMessage =
  | { type: "alive"; body: AliveInput }
  | { type: "suspect"; body: SuspectInput }
  | { type: "dead"; body: DeadInput };

/** What the engine must do after a rule ran. */
export type MembershipEffect =
  /** Encode `message` and queue it with queue name `name`; pass `notify` as `finished`. */
  | { type: "broadcast"; name: string; message: GossipMessage; notify?: () => void }
  /** We refuted an accusation (the alive is a separate broadcast): `awareness.applyDelta(1)`. */
  | { type: "refute"; incarnation: number; accusedIncarnation: number }
  /** Member went dead/left → alive (also emitted for ourselves at startup). */
  | { type: "join"; member: Member }
  /** Member became dead or left. */
  | { type: "leave"; member: Member }
  /** An alive member's metadata changed. */
  | { type: "update"; member: Member }
  /** A new member was not added: the table already holds `limit` members. */
  | { type: "member-refused"; node: string; limit: number }
  /** Same name, different address; ignored ("Conflicting address"). */
  | { type: "conflict"; existing: Member; other: AliveInput }
  /** A suspicion timer started (for logs and metrics). */
  | { type: "suspicion-started"; node: string; k: number; min: number; max: number }
  /** A suspicion timed out; `degraded` when fewer than k confirmations arrived. */
  | { type: "suspicion-expired"; node: string; confirmations: number; degraded: boolean };

/** Whether a member counts as gone (dead or left). */
export function isDeadOrLeft(m: Pick<Member, "state">): boolean {
  return m.state === NodeState.Dead || m.state === NodeState.Left;
}

/**
 * Whether the gossip loop may pick `m`: alive and suspect members, and dead ones whose death is
 * at most `gossipToTheDeadTime` old (so they can hear of it and refute); never left ones.
 */
export function isGossipTarget(m: Member, now: number, gossipToTheDeadTime: number): boolean {
  if (m.state === NodeState.Alive || m.state === NodeState.Suspect) return true;
  return m.state === NodeState.Dead && now - m.stateChange <= gossipToTheDeadTime;
}

/** Whether a probe-list wrap may remove `m`: dead or left for longer than gossipToTheDead. */
export function isReapable(m: Member, now: number, gossipToTheDeadTime: number): boolean {
  return isDeadOrLeft(m) && now - m.stateChange > gossipToTheDeadTime;
}

const NO_BYTES = new Uint8Array(0);

/** What {@link verifyProtocol} reads of a remote record (a decoded one: `null` Vsn is empty). */
export interface VersionedRecord {
  /** Member name. */
  name: string;
  /** State 0..3. */
  state: number;
  /** Version bytes; `null` counts as empty. */
  vsn: Uint8Array | null;
}

/**
 * memberlist's `verifyProtocol` (§6.3). Over alive remote records with ≥ 5 Vsn bytes and alive
 * local members it computes the highest minimum and lowest maximum protocol and delegate
 * versions, then requires every remote record (any state; a Vsn shorter than 6 counts as
 * version 0) and every local member to speak versions within them. Throws a `RangeError`
 * naming the first offender.
 */
export function verifyProtocol(
  remote: readonly VersionedRecord[],
  local: readonly Pick<Member, "name" | "state" | "vsn">[],
): void {
  let maxPMin = 0, minPMax = 255, maxDMin = 0, minDMax = 255;
  const widen = (v: Uint8Array) => {
    maxPMin = Math.max(maxPMin, v[0]);
    minPMax = Math.min(minPMax, v[1]);
    maxDMin = Math.max(maxDMin, v[3]);
    minDMax = Math.min(minDMax, v[4]);
  };
  for (const r of remote) {
    if (r.state === NodeState.Alive && r.vsn !== null && r.vsn.length >= 5) widen(r.vsn);
  }
  for (const m of local) if (m.state === NodeState.Alive) widen(m.vsn);
  const check = (name: string, vsn: Uint8Array) => {
    const pCur = vsn.length >= 6 ? vsn[2] : 0;
    const dCur = vsn.length >= 6 ? vsn[5] : 0;
    if (pCur < maxPMin || pCur > minPMax) {
      throw new RangeError(
        `Cannot merge remote state: node '${name}' protocol version (${pCur}) is incompatible: [${maxPMin}, ${minPMax}]`,
      );
    }
    if (dCur < maxDMin || dCur > minDMax) {
      throw new RangeError(
        `Cannot merge remote state: node '${name}' delegate protocol version (${dCur}) is incompatible: [${maxDMin}, ${minDMax}]`,
      );
    }
  };
  for (const r of remote) check(r.name, r.vsn ?? NO_BYTES);
  for (const m of local) check(m.name, m.vsn);
}
