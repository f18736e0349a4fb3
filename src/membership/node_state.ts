/**
 * The member table and memberlist's membership state machine (state.go: aliveNode, suspectNode,
 * deadNode, refute, mergeState, resetNodes, probe/gossip target selection), with no I/O. Every
 * rule takes a decoded message as a plain object and returns {@link MembershipEffect}s — what to
 * broadcast, which events to emit, that we refuted — for the protocol engine to carry out.
 * Suspicion timers run on the injected clock; their expiries deliver effects through
 * `onEffects`. Inputs' byte arrays are copied, so decoder buffers may be reused; the copies are
 * shared between records where equal and never modified. Records are kept column by column
 * (`_member_columns.ts`), so a member costs a few typed-array numbers, not an object per record
 * (bytes per member: see docs/benchmarks.md, "Scale reached and what limits it").
 *
 * Over 400 lines: the SWIM state machine (alive, suspect, dead, merge) is one set of rules over one
 * table; split, its transitions would reach into each other's state.
 *
 * @module
 */

import type { Clock } from "../util/clock.ts";
import type { PushRecordVisitor } from "./codec/mod.ts";
import type { Random } from "../util/random.ts";
import { type MembershipConfig, META_MAX_SIZE } from "./config.ts";
import { suspicionBounds } from "./formulas.ts";
import { addressKey, MemberColumns } from "./_member_columns.ts";
import type { MemberInterner, SlotIndex } from "./member_interner.ts";
import { ProbeList } from "./probe_list.ts";
import { SuspicionTimer } from "./suspicion.ts";
import {
  type AliveInput,
  type DeadInput,
  type GossipMessage,
  type Member,
  type MembershipEffect,
  NodeState,
  type PushNodeRecord,
  type SuspectInput,
  verifyProtocol,
  type VersionedRecord,
} from "./node_types.ts";

export * from "./node_types.ts";

/** The configuration fields the table reads. */
export type MemberTableConfig =
  & Pick<
    MembershipConfig,
    | "suspicionMult"
    | "suspicionMaxTimeoutMult"
    | "probeInterval"
    | "gossipToTheDeadTime"
    | "deadNodeReclaimTime"
  >
  & Partial<Pick<MembershipConfig, "maxMembers">>;

/** Options of a {@link MemberTable}. */
export interface MemberTableOptions {
  /** Our own node name. */
  localName: string;
  /** Timings. */
  config: MemberTableConfig;
  /** Time source for state changes and suspicion timers. */
  clock: Clock;
  /** Randomness for list positions and target selection. */
  random: Random;
  /** Receives the effects of suspicion timeouts (which happen outside any call). */
  onEffects: (effects: MembershipEffect[]) => void;
  /** memberlist's CIDRsAllowed check on new/changed addresses. @default allow all */
  allowAddress?: (addr: Uint8Array) => boolean;
  /**
   * memberlist's AliveDelegate: veto alive messages (those with < 6 Vsn bytes are then
   * dropped). @default none
   */
  acceptAlive?: (alive: AliveInput) => boolean;
  /**
   * Shares the names and byte arrays the table keeps with other tables (a simulation of many
   * members in one process). @default none: each value is copied once, equal version and
   * metadata bytes are shared within the table
   */
  intern?: MemberInterner;
}

const EMPTY = new Uint8Array(0);
const NO_VSN = new Uint8Array(6);

/**
 * The membership table of one node and the rules that change it.
 *
 * @example
 * ```ts
 * const table = new MemberTable({ localName: "a", config: lanConfig(), clock, random,
 *   onEffects: (e) => engine.apply(e) });
 * engine.apply(table.setAlive({ addr, port: 7946, meta, vsn: buildVsn(config) }));
 * engine.apply(table.suspectNode({ incarnation: 3, node: "b", from: "c" }));
 * ```
 */
export class MemberTable {
  readonly #local: string;
  readonly #config: MemberTableConfig;
  readonly #clock: Clock;
  readonly #onEffects: (effects: MembershipEffect[]) => void;
  readonly #allowAddress: (addr: Uint8Array) => boolean;
  readonly #acceptAlive: ((alive: AliveInput) => boolean) | undefined;
  readonly #intern: MemberInterner | undefined;
  readonly #cols = new MemberColumns();
  readonly #byName: SlotIndex;
  readonly #timers = new Map<string, SuspicionTimer>();
  /** Slots in probe order. */
  readonly #nodes: ProbeList<number>;
  // The last distinct version and metadata bytes kept: most members share them.
  #lastVsn: Uint8Array = NO_VSN;
  #lastMeta: Uint8Array = EMPTY;
  #incarnation = 0;
  #leaving = false;
  #leaveNotify: (() => void) | undefined;

  /** Creates an empty table; call {@link MemberTable.setAlive} to add ourselves. */
  constructor(options: MemberTableOptions) {
    this.#local = options.localName;
    this.#config = options.config;
    this.#clock = options.clock;
    this.#nodes = new ProbeList(options.random);
    this.#onEffects = options.onEffects;
    this.#allowAddress = options.allowAddress ?? (() => true);
    this.#acceptAlive = options.acceptAlive;
    this.#intern = options.intern;
    this.#byName = options.intern?.slotIndex?.() ?? new Map<string, number>();
  }

  /** Our own name. */
  get localName(): string {
    return this.#local;
  }

  /** Our incarnation counter (the last one used). */
  get incarnation(): number {
    return this.#incarnation;
  }

  /** Whether {@link MemberTable.leave} was called. */
  get hasLeft(): boolean {
    return this.#leaving;
  }

  /** memberlist's `estNumNodes`: table size, self and unreaped dead members included. */
  get numNodes(): number {
    return this.#nodes.length;
  }

  /** A snapshot of one member. */
  get(name: string): Member | undefined {
    const s = this.#byName.get(name);
    return s === undefined ? undefined : this.#cols.member(s);
  }

  /** Snapshots of every member not dead or left, self included (memberlist's `Members`). */
  members(): Member[] {
    const states = this.#cols.states;
    return this.#nodes.items().filter((s) => !goneState(states[s])).map((s) =>
      this.#cols.member(s)
    );
  }

  /** Snapshots of the whole table in probe order, dead and left members included. */
  all(): Member[] {
    return this.#nodes.items().map((s) => this.#cols.member(s));
  }

  /** Count of members not dead or left, self included (memberlist's `NumMembers`). */
  numMembers(): number {
    const states = this.#cols.states;
    let n = 0;
    for (const s of this.#nodes.items()) if (!goneState(states[s])) n++;
    return n;
  }

  /** Count of members in state alive (not suspect, dead or left), self included. */
  numAlive(): number {
    const states = this.#cols.states;
    let n = 0;
    for (const s of this.#nodes.items()) if (states[s] === NodeState.Alive) n++;
    return n;
  }

  /** Whether some other member is not dead or left (Leave/UpdateNode only wait if so). */
  anyAlive(): boolean {
    const { names, states } = this.#cols;
    return this.#nodes.items().some((s) => names[s] !== this.#local && !goneState(states[s]));
  }

  /** The running suspicion timer for `name`, if any. */
  suspicion(name: string): SuspicionTimer | undefined {
    return this.#timers.get(name);
  }

  /** Increments and returns our incarnation (u32, wrapping like Go). */
  nextIncarnation(): number {
    this.#incarnation = (this.#incarnation + 1) >>> 0;
    return this.#incarnation;
  }

  /**
   * Announces ourselves at startup: an alive with the next incarnation, processed as
   * memberlist's bootstrap (broadcast, no refutation). Emits `join` for ourselves.
   */
  setAlive(self: Pick<AliveInput, "addr" | "port" | "meta" | "vsn">): MembershipEffect[] {
    checkMeta(self.meta);
    const alive = { ...self, incarnation: this.nextIncarnation(), node: this.#local };
    return this.aliveNode(alive, { bootstrap: true });
  }

  /**
   * Re-announces ourselves with new metadata (memberlist's UpdateNode). `notify` fires when
   * the alive broadcast has been fully transmitted (or replaced).
   */
  updateNode(meta: Uint8Array, notify?: () => void, vsn?: Uint8Array): MembershipEffect[] {
    checkMeta(meta);
    const s = this.#byName.get(this.#local);
    if (s === undefined) throw new Error("Cannot update node: the local node was never set alive");
    const c = this.#cols;
    const alive = {
      incarnation: this.nextIncarnation(),
      node: this.#local,
      addr: c.addrs[s],
      port: c.ports[s],
      meta,
      vsn: vsn ?? c.vsns[s],
    };
    return this.aliveNode(alive, { bootstrap: true, notify });
  }

  /**
   * Leaves gracefully: marks us leaving and processes `dead{own incarnation, self, from self}`,
   * which broadcasts it (with `notify` as its finished callback) and marks us left. Later
   * calls do nothing. Alive messages about ourselves are ignored from now on.
   */
  leave(notify?: () => void): MembershipEffect[] {
    if (this.#leaving) return [];
    this.#leaving = true;
    const s = this.#byName.get(this.#local);
    if (s === undefined) return [];
    this.#leaveNotify = notify;
    const incarnation = this.#cols.incarnations[s];
    return this.deadNode({ incarnation, node: this.#local, from: this.#local });
  }

  /**
   * Applies an alive message (§7.1). `bootstrap` marks our own announcements (setAlive,
   * updateNode), which are broadcast instead of refuted; `notify` becomes the broadcast's
   * finished callback.
   */
  aliveNode(
    a: AliveInput,
    options: { bootstrap?: boolean; notify?: () => void } = {},
  ): MembershipEffect[] {
    const effects: MembershipEffect[] = [];
    const isLocal = a.node === this.#local;
    // An alive about us queued before Leave must not bring us back.
    if (this.#leaving && isLocal) return effects;
    if (a.vsn.length >= 3 && (a.vsn[0] === 0 || a.vsn[1] === 0 || a.vsn[0] > a.vsn[1])) {
      return effects;
    }
    if (this.#acceptAlive && (a.vsn.length < 6 || !this.#acceptAlive(a))) return effects;

    const c = this.#cols;
    let s = this.#byName.get(a.node);
    let updatesNode = false;
    if (s === undefined) {
      if (!this.#allowAddress(a.addr)) return effects;
      const limit = this.#config.maxMembers ?? Infinity;
      if (this.#nodes.length >= limit) {
        effects.push({ type: "member-refused", node: a.node, limit });
        return effects;
      }
      s = this.#insert(a);
    } else if (!bytesEqual(c.addrs[s], a.addr) || c.ports[s] !== a.port) {
      if (!this.#allowAddress(a.addr)) return effects;
      const reclaimAfter = this.#config.deadNodeReclaimTime;
      const canReclaim = reclaimAfter > 0 &&
        this.#clock.now() - c.stateChanges[s] > reclaimAfter;
      const state = c.states[s];
      if (state === NodeState.Left || (state === NodeState.Dead && canReclaim)) {
        updatesNode = true;
      } else {
        effects.push({ type: "conflict", existing: c.member(s), other: a });
        return effects;
      }
    }
    // Others need strictly newer news; about us an equal incarnation may still need a refute.
    if (!isLocal && !updatesNode && a.incarnation <= c.incarnations[s]) return effects;
    if (isLocal && a.incarnation < c.incarnations[s]) return effects;

    this.#cancelSuspicion(a.node);
    const oldState = c.states[s];
    const oldMeta = c.metas[s];
    if (isLocal && !options.bootstrap) {
      // Same incarnation with different meta/vsn: a restarted us with new config; refute.
      if (
        a.incarnation === c.incarnations[s] && bytesEqual(a.meta, c.metas[s]) &&
        bytesEqual(a.vsn, c.vsns[s])
      ) return effects;
      this.#refute(s, a.incarnation, effects);
    } else {
      effects.push(broadcast({ type: "alive", body: a }, a.node, options.notify));
      if (a.vsn.length >= 6) c.vsns[s] = this.#keepVsn(c.vsns[s], a.vsn);
      c.incarnations[s] = a.incarnation;
      c.metas[s] = this.#keepMeta(c.metas[s], a.meta);
      if (!bytesEqual(c.addrs[s], a.addr)) c.setAddr(s, this.#keepAddr(a.addr));
      c.ports[s] = a.port;
      if (c.states[s] !== NodeState.Alive) {
        c.states[s] = NodeState.Alive;
        c.stateChanges[s] = this.#clock.now();
      }
    }
    if (oldState === NodeState.Dead || oldState === NodeState.Left) {
      effects.push({ type: "join", member: c.member(s) });
    } else if (!bytesEqual(oldMeta, c.metas[s])) {
      effects.push({ type: "update", member: c.member(s) });
    }
    return effects;
  }

  /** Applies a suspect message (§7.2); may start a suspicion timer or confirm a running one. */
  suspectNode(sus: SuspectInput): MembershipEffect[] {
    const effects: MembershipEffect[] = [];
    const c = this.#cols;
    const s = this.#byName.get(sus.node);
    if (s === undefined || sus.incarnation < c.incarnations[s]) return effects;
    // A suspicion already runs: only new, independent accusers matter (and are re-gossiped).
    const running = this.#timers.get(sus.node);
    if (running) {
      if (running.confirm(sus.from)) {
        effects.push(broadcast({ type: "suspect", body: sus }, sus.node));
      }
      return effects;
    }
    if (c.states[s] !== NodeState.Alive) return effects;
    if (c.names[s] === this.#local) {
      this.#refute(s, sus.incarnation, effects);
      return effects;
    }
    effects.push(broadcast({ type: "suspect", body: sus }, sus.node));
    c.incarnations[s] = sus.incarnation;
    c.states[s] = NodeState.Suspect;
    c.stateChanges[s] = this.#clock.now();
    const { k, min, max } = suspicionBounds(this.#config, this.numNodes);
    const timer: SuspicionTimer = new SuspicionTimer({
      clock: this.#clock,
      from: sus.from,
      k,
      min,
      max,
      onTimeout: (confirmations) => this.#suspicionExpired(sus.node, timer, confirmations),
    });
    this.#timers.set(sus.node, timer);
    effects.push({ type: "suspicion-started", node: sus.node, k, min, max });
    return effects;
  }

  /** Applies a dead message (§7.3); `from === node` marks the member left instead of dead. */
  deadNode(d: DeadInput): MembershipEffect[] {
    const effects: MembershipEffect[] = [];
    const c = this.#cols;
    const s = this.#byName.get(d.node);
    if (s === undefined || d.incarnation < c.incarnations[s]) return effects;
    this.#cancelSuspicion(d.node);
    if (goneState(c.states[s])) return effects;
    if (c.names[s] === this.#local) {
      if (!this.#leaving) {
        this.#refute(s, d.incarnation, effects);
        return effects;
      }
      effects.push(broadcast({ type: "dead", body: d }, d.node, this.#leaveNotify));
    } else {
      effects.push(broadcast({ type: "dead", body: d }, d.node));
    }
    c.incarnations[s] = d.incarnation;
    c.states[s] = d.node === d.from ? NodeState.Left : NodeState.Dead;
    c.stateChanges[s] = this.#clock.now();
    effects.push({ type: "leave", member: c.member(s) });
    return effects;
  }

  /**
   * Merges a peer's push/pull records (§7.6): alive → aliveNode; left → deadNode from the
   * member itself; dead or suspect → suspectNode from us (a remote death is only a suspicion
   * here, so the member gets a chance to refute). Call {@link MemberTable.verifyProtocol} first.
   */
  mergeState(records: readonly PushNodeRecord[]): MembershipEffect[] {
    const effects: MembershipEffect[] = [];
    const add = (more: MembershipEffect[]) => {
      for (const e of more) effects.push(e);
    };
    for (const r of records) {
      const { name: node, incarnation } = r;
      if (r.state === NodeState.Alive) {
        const alive = { incarnation, node, addr: r.addr, port: r.port, meta: r.meta, vsn: r.vsn };
        add(this.aliveNode(alive));
      } else if (r.state === NodeState.Left) {
        add(this.deadNode({ incarnation, node, from: node }));
      } else if (r.state === NodeState.Dead || r.state === NodeState.Suspect) {
        add(this.suspectNode({ incarnation, node, from: this.#local }));
      }
    }
    return effects;
  }

  /**
   * memberlist's `verifyProtocol` (§6.3): throws a `RangeError` when a remote record or a local
   * member speaks a protocol or delegate version outside what every alive member understands.
   */
  verifyProtocol(records: readonly VersionedRecord[]): void {
    const { names, states, vsns } = this.#cols;
    const local = this.#nodes.items().map((s) => ({
      name: names[s],
      state: states[s] as NodeState,
      vsn: vsns[s],
    }));
    verifyProtocol(records, local);
  }

  /**
   * Fills the table with `peers` as alive members at `incarnation`, with no metadata and
   * version bytes `vsn` — what a converged cluster's table holds. Leaves each new member in the
   * state {@link MemberTable.aliveNode} would, with the same draws of randomness for its list
   * position, but returns no effects (a converged table has nothing to broadcast or announce)
   * and copies no bytes: `peers`' address arrays are kept as given, so the caller must never
   * modify them. Peers already in the table (ourselves included) are skipped, and so are
   * peers beyond `maxMembers`. For simulations that start from a converged cluster; building
   * one through the protocol costs O(N² log N) packets.
   */
  loadConverged(
    peers: readonly { name: string; addr: Uint8Array; port: number }[],
    incarnation: number,
    vsn: Uint8Array,
  ): void {
    const limit = this.#config.maxMembers ?? Infinity;
    const kept = vsn.length >= 6 ? this.#keepVsn(NO_VSN, vsn) : NO_VSN;
    const now = this.#clock.now();
    // Room for a few joiners on top (a converged cluster grows), without growing every table.
    const count = this.#nodes.length + peers.length;
    this.#cols.reserve(Math.min(limit, count + (count >> 6) + 16));
    for (const p of peers) {
      if (this.#byName.get(p.name) !== undefined) continue;
      if (this.#nodes.length >= limit) return;
      if (!this.#allowAddress(p.addr)) continue;
      const name = this.#intern ? this.#intern.name(p.name) : p.name;
      const s = this.#cols.allocate(name, p.addr, p.port, EMPTY, kept, NodeState.Alive);
      this.#cols.incarnations[s] = incarnation;
      this.#cols.stateChanges[s] = now;
      this.#byName.set(name, s);
      this.#nodes.insert(s);
    }
  }

  /**
   * Whether merging an alive record (push/pull) about `name` would change nothing: someone else
   * we already hold at this address and port with this incarnation or a newer one. The merge
   * skips such records before building anything for them (most records of a steady cluster).
   */
  isStaleAlive(name: string, addr: Uint8Array, port: number, incarnation: number): boolean {
    if (name === this.#local) return false;
    const s = this.#byName.get(name);
    if (s === undefined) return false;
    const c = this.#cols;
    if (incarnation > c.incarnations[s] || c.ports[s] !== port) return false;
    const key = addressKey(addr);
    return key !== 0 ? c.addrKeys[s] === key : bytesEqual(c.addrs[s], addr);
  }

  /**
   * Visits our push/pull records — every member in the table, dead and left included, in probe
   * order — straight from the columns (no record objects: a push/pull of N members encodes N).
   */
  forEachRecord(visit: PushRecordVisitor): void {
    const { names, addrs, ports, metas, incarnations, states, vsns } = this.#cols;
    for (const s of this.#nodes.items()) {
      visit(names[s], addrs[s], ports[s], metas[s], incarnations[s], states[s], vsns[s]);
    }
  }

  /** Our push/pull records as objects ({@link MemberTable.forEachRecord}'s, in its order). */
  localState(): PushNodeRecord[] {
    const records: PushNodeRecord[] = [];
    this.forEachRecord((name, addr, port, meta, incarnation, state, vsn) => {
      records.push({ name, addr, port, meta, incarnation, state, vsn });
    });
    return records;
  }

  /**
   * The next member to probe: walks the shuffled list round-robin, skipping ourselves and
   * dead/left members (suspects are probed). On wrap-around it reaps and reshuffles
   * ({@link MemberTable.resetNodes}). `undefined` when nobody is probeable.
   */
  nextProbeTarget(): Member | undefined {
    const c = this.#cols;
    const skip = (s: number) => c.names[s] === this.#local || goneState(c.states[s]);
    const s = this.#nodes.next(skip, () => this.resetNodes());
    return s === undefined ? undefined : c.member(s);
  }

  /**
   * Removes members dead or left for longer than gossipToTheDeadTime and shuffles the probe
   * order. Returns the names removed.
   */
  resetNodes(): string[] {
    const now = this.#clock.now();
    const ttd = this.#config.gossipToTheDeadTime;
    const c = this.#cols;
    const reaped = this.#nodes.reset((s) =>
      goneState(c.states[s]) && now - c.stateChanges[s] > ttd
    );
    return reaped.map((s) => {
      const name = c.names[s];
      this.#byName.delete(name);
      c.release(s);
      return name;
    });
  }

  /**
   * Up to `k` distinct random members not excluded (memberlist's kRandomNodes: an exhaustive
   * shuffle when the table is small, else up to 3n random draws).
   */
  randomMembers(k: number, exclude: (m: Member) => boolean): Member[] {
    return this.#pick(k, (s) => exclude(this.#cols.member(s)));
  }

  /** Up to `k` members for the gossip loop ({@link isGossipTarget}, never ourselves). */
  gossipTargets(k: number): Member[] {
    const now = this.#clock.now();
    const ttd = this.#config.gossipToTheDeadTime;
    const { names, states, stateChanges } = this.#cols;
    return this.#pick(k, (s) => {
      if (names[s] === this.#local) return true;
      const state = states[s];
      if (state === NodeState.Alive || state === NodeState.Suspect) return false;
      return !(state === NodeState.Dead && now - stateChanges[s] <= ttd);
    });
  }

  /** Up to `k` alive members other than us and `target`, to ask for indirect pings. */
  indirectProbeHelpers(k: number, target: string): Member[] {
    const { names, states } = this.#cols;
    return this.#pick(
      k,
      (s) => names[s] === this.#local || names[s] === target || states[s] !== NodeState.Alive,
    );
  }

  /** One random alive member other than us for periodic push/pull, if any. */
  pushPullTarget(): Member | undefined {
    const { names, states } = this.#cols;
    return this.#pick(1, (s) => names[s] === this.#local || states[s] !== NodeState.Alive)[0];
  }

  /** Cancels every suspicion timer (shutdown). */
  close(): void {
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }

  #pick(k: number, exclude: (slot: number) => boolean): Member[] {
    return this.#nodes.pick(k, exclude).map((s) => this.#cols.member(s));
  }

  #insert(a: AliveInput): number {
    // Created dead (so the coming transition to alive emits join), with no incarnation yet.
    const name = this.#intern ? this.#intern.name(a.node) : a.node;
    const vsn = a.vsn.length >= 6 ? this.#keepVsn(NO_VSN, a.vsn) : NO_VSN;
    const meta = this.#keepMeta(EMPTY, a.meta);
    const s = this.#cols.allocate(name, this.#keepAddr(a.addr), a.port, meta, vsn, NodeState.Dead);
    this.#byName.set(name, s);
    this.#nodes.insert(s);
    return s;
  }

  /** `vsn`'s first 6 bytes as kept bytes: `current` or the last kept when equal, else a copy. */
  #keepVsn(current: Uint8Array, vsn: Uint8Array): Uint8Array {
    const six = vsn.length === 6 ? vsn : vsn.subarray(0, 6);
    if (bytesEqual(current, six)) return current;
    if (!bytesEqual(this.#lastVsn, six)) this.#lastVsn = this.#copy(six);
    return this.#lastVsn;
  }

  /** `meta` as kept bytes: `current` or the last kept when equal, else a copy. */
  #keepMeta(current: Uint8Array, meta: Uint8Array): Uint8Array {
    if (meta.length === 0) return EMPTY;
    if (bytesEqual(current, meta)) return current;
    if (!bytesEqual(this.#lastMeta, meta)) this.#lastMeta = this.#copy(meta);
    return this.#lastMeta;
  }

  #keepAddr(addr: Uint8Array): Uint8Array {
    return this.#copy(addr);
  }

  #copy(bytes: Uint8Array): Uint8Array {
    return this.#intern ? this.#intern.bytes(bytes) : bytes.slice();
  }

  #refute(s: number, accusedIncarnation: number, effects: MembershipEffect[]): void {
    let inc = this.nextIncarnation();
    if (accusedIncarnation >= inc) {
      this.#incarnation = (accusedIncarnation + 1) >>> 0;
      inc = this.#incarnation;
    }
    const c = this.#cols;
    c.incarnations[s] = inc;
    effects.push({ type: "refute", incarnation: inc, accusedIncarnation });
    const body = {
      incarnation: inc,
      node: c.names[s],
      addr: c.addrs[s],
      port: c.ports[s],
      meta: c.metas[s],
      vsn: c.vsns[s],
    };
    // memberlist queues this under our address string (a quirk); queuing it under our name
    // lets it replace our own older alive still in the queue, which receivers would ignore.
    effects.push(broadcast({ type: "alive", body }, c.names[s]));
  }

  #cancelSuspicion(name: string): void {
    this.#timers.get(name)?.cancel();
    this.#timers.delete(name);
  }

  #suspicionExpired(node: string, timer: SuspicionTimer, confirmations: number): void {
    const s = this.#byName.get(node);
    const c = this.#cols;
    if (this.#timers.get(node) !== timer || s === undefined || c.states[s] !== NodeState.Suspect) {
      return;
    }
    const effects: MembershipEffect[] = [{
      type: "suspicion-expired",
      node,
      confirmations,
      degraded: timer.k > 0 && confirmations < timer.k,
    }];
    const incarnation = c.incarnations[s];
    for (const e of this.deadNode({ incarnation, node, from: this.#local })) effects.push(e);
    this.#onEffects(effects);
  }
}

/** Whether a state counts as gone (dead or left). */
function goneState(state: number): boolean {
  return state === NodeState.Dead || state === NodeState.Left;
}

function broadcast(message: GossipMessage, name: string, notify?: () => void): MembershipEffect {
  return notify
    ? { type: "broadcast", name, message, notify }
    : { type: "broadcast", name, message };
}

function checkMeta(meta: Uint8Array): void {
  if (meta.length > META_MAX_SIZE) {
    throw new RangeError(
      `Cannot announce node: meta must be at most ${META_MAX_SIZE} bytes: received ${meta.length}`,
    );
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
