/**
 * The member table and memberlist's membership state machine (state.go: aliveNode, suspectNode,
 * deadNode, refute, mergeState, resetNodes, probe/gossip target selection), with no I/O. Every
 * rule takes a decoded message as a plain object and returns {@link MembershipEffect}s — what to
 * broadcast, which events to emit, that we refuted — for the protocol engine to carry out.
 * Suspicion timers run on the injected clock; their expiries deliver effects through
 * `onEffects`. Inputs' byte arrays are copied, so decoder buffers may be reused.
 *
 * @module
 */

import type { Clock } from "../util/clock.ts";
import type { Random } from "../util/random.ts";
import { type MembershipConfig, META_MAX_SIZE } from "./config.ts";
import { suspicionBounds } from "./formulas.ts";
import { ProbeList } from "./probe_list.ts";
import { SuspicionTimer } from "./suspicion.ts";
import {
  type AliveInput,
  type DeadInput,
  type GossipMessage,
  isDeadOrLeft,
  isGossipTarget,
  isReapable,
  type Member,
  type MembershipEffect,
  NodeState,
  type PushNodeRecord,
  type SuspectInput,
  verifyProtocol,
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
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Entry = Mutable<Member>;

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
  readonly #byName = new Map<string, Entry>();
  readonly #timers = new Map<string, SuspicionTimer>();
  readonly #nodes: ProbeList<Entry>;
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
    const e = this.#byName.get(name);
    return e && { ...e };
  }

  /** Snapshots of every member not dead or left, self included (memberlist's `Members`). */
  members(): Member[] {
    return this.#nodes.items().filter((e) => !isDeadOrLeft(e)).map((e) => ({ ...e }));
  }

  /** Snapshots of the whole table in probe order, dead and left members included. */
  all(): Member[] {
    return this.#nodes.items().map((e) => ({ ...e }));
  }

  /** Count of members not dead or left, self included (memberlist's `NumMembers`). */
  numMembers(): number {
    let n = 0;
    for (const e of this.#nodes.items()) if (!isDeadOrLeft(e)) n++;
    return n;
  }

  /** Whether some other member is not dead or left (Leave/UpdateNode only wait if so). */
  anyAlive(): boolean {
    return this.#nodes.items().some((e) => e.name !== this.#local && !isDeadOrLeft(e));
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
    const me = this.#byName.get(this.#local);
    if (!me) throw new Error("Cannot update node: the local node was never set alive");
    const alive = {
      incarnation: this.nextIncarnation(),
      node: this.#local,
      addr: me.addr,
      port: me.port,
      meta,
      vsn: vsn ?? me.vsn,
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
    const me = this.#byName.get(this.#local);
    if (!me) return [];
    this.#leaveNotify = notify;
    return this.deadNode({ incarnation: me.incarnation, node: me.name, from: me.name });
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

    let e = this.#byName.get(a.node);
    let updatesNode = false;
    if (!e) {
      if (!this.#allowAddress(a.addr)) return effects;
      const limit = this.#config.maxMembers ?? Infinity;
      if (this.#byName.size >= limit) {
        effects.push({ type: "member-refused", node: a.node, limit });
        return effects;
      }
      e = this.#insert(a);
    } else if (!bytesEqual(e.addr, a.addr) || e.port !== a.port) {
      if (!this.#allowAddress(a.addr)) return effects;
      const reclaimAfter = this.#config.deadNodeReclaimTime;
      const canReclaim = reclaimAfter > 0 && this.#clock.now() - e.stateChange > reclaimAfter;
      if (e.state === NodeState.Left || (e.state === NodeState.Dead && canReclaim)) {
        updatesNode = true;
      } else {
        effects.push({ type: "conflict", existing: { ...e }, other: a });
        return effects;
      }
    }
    // Others need strictly newer news; about us an equal incarnation may still need a refute.
    if (!isLocal && !updatesNode && a.incarnation <= e.incarnation) return effects;
    if (isLocal && a.incarnation < e.incarnation) return effects;

    this.#cancelSuspicion(a.node);
    const oldState = e.state;
    const oldMeta = e.meta;
    if (isLocal && !options.bootstrap) {
      // Same incarnation with different meta/vsn: a restarted us with new config; refute.
      if (
        a.incarnation === e.incarnation && bytesEqual(a.meta, e.meta) && bytesEqual(a.vsn, e.vsn)
      ) return effects;
      this.#refute(e, a.incarnation, effects);
    } else {
      effects.push(broadcast({ type: "alive", body: a }, a.node, options.notify));
      if (a.vsn.length >= 6) e.vsn = a.vsn.slice(0, 6);
      e.incarnation = a.incarnation;
      e.meta = a.meta.slice();
      e.addr = a.addr.slice();
      e.port = a.port;
      if (e.state !== NodeState.Alive) {
        e.state = NodeState.Alive;
        e.stateChange = this.#clock.now();
      }
    }
    if (oldState === NodeState.Dead || oldState === NodeState.Left) {
      effects.push({ type: "join", member: { ...e } });
    } else if (!bytesEqual(oldMeta, e.meta)) {
      effects.push({ type: "update", member: { ...e } });
    }
    return effects;
  }

  /** Applies a suspect message (§7.2); may start a suspicion timer or confirm a running one. */
  suspectNode(s: SuspectInput): MembershipEffect[] {
    const effects: MembershipEffect[] = [];
    const e = this.#byName.get(s.node);
    if (!e || s.incarnation < e.incarnation) return effects;
    // A suspicion already runs: only new, independent accusers matter (and are re-gossiped).
    const running = this.#timers.get(s.node);
    if (running) {
      if (running.confirm(s.from)) effects.push(broadcast({ type: "suspect", body: s }, s.node));
      return effects;
    }
    if (e.state !== NodeState.Alive) return effects;
    if (e.name === this.#local) {
      this.#refute(e, s.incarnation, effects);
      return effects;
    }
    effects.push(broadcast({ type: "suspect", body: s }, s.node));
    e.incarnation = s.incarnation;
    e.state = NodeState.Suspect;
    e.stateChange = this.#clock.now();
    const { k, min, max } = suspicionBounds(this.#config, this.numNodes);
    const timer: SuspicionTimer = new SuspicionTimer({
      clock: this.#clock,
      from: s.from,
      k,
      min,
      max,
      onTimeout: (confirmations) => this.#suspicionExpired(s.node, timer, confirmations),
    });
    this.#timers.set(s.node, timer);
    effects.push({ type: "suspicion-started", node: s.node, k, min, max });
    return effects;
  }

  /** Applies a dead message (§7.3); `from === node` marks the member left instead of dead. */
  deadNode(d: DeadInput): MembershipEffect[] {
    const effects: MembershipEffect[] = [];
    const e = this.#byName.get(d.node);
    if (!e || d.incarnation < e.incarnation) return effects;
    this.#cancelSuspicion(d.node);
    if (isDeadOrLeft(e)) return effects;
    if (e.name === this.#local) {
      if (!this.#leaving) {
        this.#refute(e, d.incarnation, effects);
        return effects;
      }
      effects.push(broadcast({ type: "dead", body: d }, d.node, this.#leaveNotify));
    } else {
      effects.push(broadcast({ type: "dead", body: d }, d.node));
    }
    e.incarnation = d.incarnation;
    e.state = d.node === d.from ? NodeState.Left : NodeState.Dead;
    e.stateChange = this.#clock.now();
    effects.push({ type: "leave", member: { ...e } });
    return effects;
  }

  /**
   * Merges a peer's push/pull records (§7.6): alive → aliveNode; left → deadNode from the
   * member itself; dead or suspect → suspectNode from us (a remote death is only a suspicion
   * here, so the member gets a chance to refute). Call {@link MemberTable.verifyProtocol} first.
   */
  mergeState(records: readonly PushNodeRecord[]): MembershipEffect[] {
    const effects: MembershipEffect[] = [];
    for (const r of records) {
      const { name: node, incarnation } = r;
      if (r.state === NodeState.Alive) {
        const alive = { incarnation, node, addr: r.addr, port: r.port, meta: r.meta, vsn: r.vsn };
        effects.push(...this.aliveNode(alive));
      } else if (r.state === NodeState.Left) {
        effects.push(...this.deadNode({ incarnation, node, from: node }));
      } else if (r.state === NodeState.Dead || r.state === NodeState.Suspect) {
        effects.push(...this.suspectNode({ incarnation, node, from: this.#local }));
      }
    }
    return effects;
  }

  /**
   * memberlist's `verifyProtocol` (§6.3): throws a `RangeError` when a remote record or a local
   * member speaks a protocol or delegate version outside what every alive member understands.
   */
  verifyProtocol(records: readonly PushNodeRecord[]): void {
    verifyProtocol(records, this.#nodes.items());
  }

  /** Our push/pull records: every member in the table, dead and left included. */
  localState(): PushNodeRecord[] {
    return this.#nodes.items().map((e) => ({
      name: e.name,
      addr: e.addr,
      port: e.port,
      meta: e.meta,
      incarnation: e.incarnation,
      state: e.state,
      vsn: e.vsn,
    }));
  }

  /**
   * The next member to probe: walks the shuffled list round-robin, skipping ourselves and
   * dead/left members (suspects are probed). On wrap-around it reaps and reshuffles
   * ({@link MemberTable.resetNodes}). `undefined` when nobody is probeable.
   */
  nextProbeTarget(): Member | undefined {
    const skip = (e: Entry) => e.name === this.#local || isDeadOrLeft(e);
    const e = this.#nodes.next(skip, () => this.resetNodes());
    return e && { ...e };
  }

  /**
   * Removes members dead or left for longer than gossipToTheDeadTime and shuffles the probe
   * order. Returns the names removed.
   */
  resetNodes(): string[] {
    const now = this.#clock.now();
    const ttd = this.#config.gossipToTheDeadTime;
    const reaped = this.#nodes.reset((e) => isReapable(e, now, ttd));
    for (const e of reaped) this.#byName.delete(e.name);
    return reaped.map((e) => e.name);
  }

  /**
   * Up to `k` distinct random members not excluded (memberlist's kRandomNodes: an exhaustive
   * shuffle when the table is small, else up to 3n random draws).
   */
  randomMembers(k: number, exclude: (m: Member) => boolean): Member[] {
    return this.#nodes.pick(k, exclude).map((e) => ({ ...e }));
  }

  /** Up to `k` members for the gossip loop ({@link isGossipTarget}, never ourselves). */
  gossipTargets(k: number): Member[] {
    const now = this.#clock.now();
    const ttd = this.#config.gossipToTheDeadTime;
    return this.randomMembers(k, (m) => m.name === this.#local || !isGossipTarget(m, now, ttd));
  }

  /** Up to `k` alive members other than us and `target`, to ask for indirect pings. */
  indirectProbeHelpers(k: number, target: string): Member[] {
    return this.randomMembers(
      k,
      (m) => m.name === this.#local || m.name === target || m.state !== NodeState.Alive,
    );
  }

  /** One random alive member other than us for periodic push/pull, if any. */
  pushPullTarget(): Member | undefined {
    return this.randomMembers(1, (m) => m.name === this.#local || m.state !== NodeState.Alive)[0];
  }

  /** Cancels every suspicion timer (shutdown). */
  close(): void {
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
  }

  #insert(a: AliveInput): Entry {
    // Created dead (so the coming transition to alive emits join), with no incarnation yet.
    const e: Entry = {
      name: a.node,
      addr: a.addr.slice(),
      port: a.port,
      meta: a.meta.slice(),
      state: NodeState.Dead,
      incarnation: 0,
      stateChange: 0,
      vsn: a.vsn.length >= 6 ? a.vsn.slice(0, 6) : new Uint8Array(6),
    };
    this.#byName.set(e.name, e);
    this.#nodes.insert(e);
    return e;
  }

  #refute(me: Entry, accusedIncarnation: number, effects: MembershipEffect[]): void {
    let inc = this.nextIncarnation();
    if (accusedIncarnation >= inc) {
      this.#incarnation = (accusedIncarnation + 1) >>> 0;
      inc = this.#incarnation;
    }
    me.incarnation = inc;
    effects.push({ type: "refute", incarnation: inc, accusedIncarnation });
    const body = {
      incarnation: inc,
      node: me.name,
      addr: me.addr,
      port: me.port,
      meta: me.meta,
      vsn: me.vsn,
    };
    // memberlist queues this under our address string (a quirk); queuing it under our name
    // lets it replace our own older alive still in the queue, which receivers would ignore.
    effects.push(broadcast({ type: "alive", body }, me.name));
  }

  #cancelSuspicion(name: string): void {
    this.#timers.get(name)?.cancel();
    this.#timers.delete(name);
  }

  #suspicionExpired(node: string, timer: SuspicionTimer, confirmations: number): void {
    const e = this.#byName.get(node);
    if (this.#timers.get(node) !== timer || !e || e.state !== NodeState.Suspect) return;
    const effects: MembershipEffect[] = [{
      type: "suspicion-expired",
      node,
      confirmations,
      degraded: timer.k > 0 && confirmations < timer.k,
    }];
    effects.push(...this.deadNode({ incarnation: e.incarnation, node, from: this.#local }));
    this.#onEffects(effects);
  }
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
