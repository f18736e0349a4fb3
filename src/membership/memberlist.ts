/**
 * The membership protocol engine: HashiCorp memberlist's SWIM + Lifeguard, byte-compatible on
 * the wire. It owns the member table, the broadcast queue and the local health score, drives
 * the probe, gossip and push/pull loops on the injected clock, answers packets and streams from
 * the transport, and talks to the application only through a {@link MembershipDelegate} and
 * {@link MembershipEvents}.
 *
 * Beyond memberlist: with `seeds` it joins in the background with jittered exponential backoff,
 * and afterwards re-joins any seed that is not a live member (healing partitions and restarted
 * clusters); it also retries recently failed members now and then, like Serf's reconnect.
 *
 * @module
 */

import type { Address, Transport } from "../transport/transport.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { type Random, systemRandom } from "../util/random.ts";
import type { EngineContext } from "./_context.ts";
import { Engine } from "./_engine.ts";
import type { MembershipEncryption } from "./_hooks.ts";
import { ipToBytes } from "./_ip.ts";
import { addressOf } from "./_packet_io.ts";
import { backoffDelay, isSelf, type RetryPolicy } from "./_seeds.ts";
import { pushPull, sendUserStream } from "./_streams.ts";
import { deferred } from "./_timers.ts";
import { MessageType } from "./codec/mod.ts";
import {
  buildVsn,
  lanConfig,
  type MembershipConfig,
  META_MAX_SIZE,
  validateMembershipConfig,
} from "./config.ts";
import {
  type MembershipDelegate,
  type MembershipEvents,
  type MemberSnapshot,
  memberSnapshot,
} from "./delegate.ts";
import type { Member } from "./node_state.ts";
import type { MembershipStats } from "./stats.ts";

export type { RetryPolicy } from "./_seeds.ts";
export type { MembershipEncryption } from "./_hooks.ts";

/** Options of {@link Memberlist}. */
export interface MemberlistOptions {
  /** Unique node name: the member's identity in the cluster. */
  name: string;
  /** Packets and streams; already bound. */
  transport: Transport;
  /**
   * Address announced to peers: an IP literal and port. Its IP bytes are announced as 4 bytes
   * for IPv4 and 16 for IPv6, and must never change for this name.
   * @default transport.localAddress (with `config.advertisePort` if set)
   */
  advertise?: Address;
  /** Protocol timings. @default lanConfig() */
  config?: MembershipConfig;
  /** Time source for every timer. @default systemClock */
  clock?: Clock;
  /** Randomness for probe order, targets and jitter. @default systemRandom */
  random?: Random;
  /** Where protocol events are logged. @default silentLogger */
  logger?: Logger;
  /** Application hooks. @default none */
  delegate?: MembershipDelegate;
  /** Membership change notifications. @default none */
  events?: MembershipEvents;
  /**
   * Seeds to join in the background after {@link Memberlist.start} (retried with backoff until
   * one answers), and to re-join whenever one of them is not a live member. @default []
   */
  seeds?: Address[];
  /** Backoff of seed joins. @default { initialDelayMs: 1000, maxDelayMs: 30000 } */
  seedRetry?: RetryPolicy;
  /**
   * Period of attempts to re-join one recently failed member (0 disables); each attempt runs
   * with probability failed/alive, as Serf's reconnect. @default 30000
   */
  reconnectInterval?: number;
  /** How long failed members are remembered for reconnect attempts, ms. @default 3600000 */
  reconnectTimeout?: number;
  /** Encryption hooks of an installed keyring. @default undefined (plaintext) */
  encryption?: MembershipEncryption;
}

/**
 * One cluster member running memberlist's protocol.
 *
 * @example
 * ```ts
 * const ml = new Memberlist({ name: "node-a", transport, config: lanConfig(),
 *   delegate: { nodeMeta: () => meta }, events: { onJoin: (m) => console.log(m.name) },
 *   seeds: [{ host: "10.0.0.2", port: 7946 }] });
 * await ml.start();
 * // ... later
 * await ml.leave(5000);
 * await ml.shutdown();
 * ```
 */
export class Memberlist {
  readonly #engine: Engine;
  readonly #ctx: EngineContext;
  readonly #advertise: Address;
  readonly #shutDown = deferred<false>();
  #started = false;
  #joined = false;

  /** Validates the options; throws a `RangeError`/`TypeError` naming the bad one. */
  constructor(options: MemberlistOptions) {
    if (typeof options.name !== "string" || options.name === "") {
      throw new TypeError(
        `Cannot create memberlist: name must be a non-empty string: received ${options.name}`,
      );
    }
    const config = validateMembershipConfig({ ...(options.config ?? lanConfig()) });
    const local = options.transport.localAddress;
    const advertise = options.advertise ??
      { host: local.host, port: config.advertisePort ?? local.port };
    const addr = ipToBytes(advertise.host);
    if (!addr || addr.every((b) => b === 0) || !(advertise.port > 0 && advertise.port < 65536)) {
      throw new TypeError(
        `Cannot create memberlist: advertise must be a specific IP literal and port: received ${advertise.host}:${advertise.port}`,
      );
    }
    this.#advertise = { ...advertise };
    this.#engine = new Engine({
      name: options.name,
      config,
      transport: options.transport,
      clock: options.clock ?? systemClock,
      random: options.random ?? systemRandom,
      logger: options.logger,
      self: { addr, port: advertise.port },
      delegate: options.delegate,
      events: options.events,
      encryption: options.encryption,
      loops: {
        seeds: (options.seeds ?? []).map((s) => ({ ...s })),
        seedRetry: options.seedRetry ?? {},
        reconnectInterval: options.reconnectInterval ?? 30_000,
        reconnectTimeout: options.reconnectTimeout ?? 3_600_000,
        joined: () => this.#joined,
        join: (seeds) => this.join(seeds),
      },
    });
    this.#ctx = this.#engine.ctx;
  }

  /** Our node name. */
  get name(): string {
    return this.#ctx.name;
  }

  /** The address we announce. */
  get address(): Address {
    return { ...this.#advertise };
  }

  /** Live protocol counters. */
  get stats(): Readonly<MembershipStats> {
    return this.#ctx.stats;
  }

  /**
   * Announces ourselves, starts answering packets and streams, starts the probe, gossip and
   * push/pull loops (each first tick randomly staggered) and, with seeds, the background join.
   * Rejects with an `Error` when called twice or after shutdown, and with a `RangeError` when
   * the delegate's meta exceeds 512 bytes.
   */
  start(): Promise<void> {
    try {
      this.#start();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #start(): void {
    if (this.#started || this.#engine.closed) {
      throw new Error("Cannot start memberlist: already started or shut down");
    }
    const meta = this.#nodeMeta();
    this.#started = true;
    const ctx = this.#ctx;
    this.#engine.listen();
    ctx.log.info("Memberlist starting", {
      address: `${this.#advertise.host}:${this.#advertise.port}`,
    });
    this.#engine.apply(ctx.table.setAlive({
      addr: ctx.self.addr,
      port: ctx.self.port,
      meta,
      vsn: buildVsn(ctx.config),
    }));
    this.#engine.startLoops();
  }

  /**
   * Push/pulls (join = true) with every address in `seeds` at once; resolves with how many
   * answered (0 means the join failed). Our own address is skipped.
   *
   * A seed's state may say we are dead or left (we restarted under the same name): we refute
   * with a higher incarnation, but every exchange already carried the old one, which the seeds
   * ignored; the refutation would then reach them by gossip alone, which in a small cluster can
   * miss a member until its next push/pull (seen in the rolling-restart test of
   * `tests/partitioned_e2e_test.ts`). memberlist joins its seeds one after another, so the later
   * ones get the new incarnation; joining all at once, we exchange states once more with the
   * seeds that answered.
   */
  async join(seeds: readonly Address[]): Promise<number> {
    this.#assertRunning("join");
    const ctx = this.#ctx;
    const targets = seeds.filter((s) => !isSelf(s, ctx.self));
    const before = ctx.table.incarnation;
    const results = await Promise.allSettled(targets.map((s) => pushPull(ctx, s, true)));
    const answeredSeeds = targets.filter((_, i) => results[i].status === "fulfilled");
    if (ctx.table.incarnation !== before && !ctx.closed) {
      await Promise.allSettled(answeredSeeds.map((s) => pushPull(ctx, s, false)));
    }
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        ctx.log.warn("Cannot join", {
          seed: `${targets[i].host}:${targets[i].port}`,
          error: r.reason,
        });
      }
    });
    if (answeredSeeds.length > 0) this.#joined = true;
    return answeredSeeds.length;
  }

  /**
   * Retries {@link Memberlist.join} with jittered exponential backoff until at least one seed
   * answers; resolves with that count, or 0 once we leave or shut down first.
   */
  async joinWithRetry(seeds: readonly Address[], policy: RetryPolicy = {}): Promise<number> {
    for (let attempt = 0;; attempt++) {
      if (this.#engine.closed || this.#ctx.table.hasLeft) return 0;
      const answered = await this.join(seeds);
      if (answered > 0) return answered;
      await this.#ctx.timers.sleep(backoffDelay(policy, attempt, this.#ctx.random));
    }
  }

  /**
   * Leaves gracefully: broadcasts our own death with From == us (others mark us `left`) and
   * waits until that broadcast has been sent its full retransmit count, or `timeoutMs` (0 waits
   * without limit). Resolves `true` when sent, `false` on timeout. The engine keeps answering
   * until {@link Memberlist.shutdown}; a left member cannot join again.
   */
  async leave(timeoutMs: number): Promise<boolean> {
    this.#assertRunning("leave");
    const table = this.#ctx.table;
    if (table.hasLeft) return true;
    const sent = deferred<boolean>();
    this.#engine.apply(table.leave(() => sent.resolve(true)));
    this.#ctx.log.info("Leaving the cluster");
    return await this.#waitBroadcast(sent.promise, timeoutMs);
  }

  /**
   * Re-reads `nodeMeta` from the delegate and announces it with a new incarnation; waits like
   * {@link Memberlist.leave}. Throws a `RangeError` if the meta exceeds 512 bytes.
   */
  async updateNode(timeoutMs: number): Promise<boolean> {
    this.#assertRunning("update node");
    const sent = deferred<boolean>();
    const ctx = this.#ctx;
    this.#engine.apply(ctx.table.updateNode(this.#nodeMeta(), () => sent.resolve(true)));
    return await this.#waitBroadcast(sent.promise, timeoutMs);
  }

  /** Stops every loop and timer and closes the transport; no leave message. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.#engine.closed) return;
    this.#shutDown.resolve(false);
    await this.#engine.close();
    this.#ctx.log.info("Memberlist shut down");
  }

  /** Same as {@link Memberlist.shutdown}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }

  /** Members alive or suspect, ourselves included (memberlist's `Members`). */
  members(): MemberSnapshot[] {
    return this.#ctx.table.members().map(memberSnapshot);
  }

  /** Every member in the table, dead and left ones not yet reaped included. */
  allMembers(): MemberSnapshot[] {
    return this.#ctx.table.all().map(memberSnapshot);
  }

  /** One member by name, in any state. */
  member(name: string): MemberSnapshot | undefined {
    const m = this.#ctx.table.get(name);
    return m && memberSnapshot(m);
  }

  /** Ourselves (after {@link Memberlist.start}). */
  localMember(): MemberSnapshot {
    const me = this.#ctx.table.get(this.#ctx.name);
    if (!me) throw new Error("Cannot read the local member: memberlist is not started");
    return memberSnapshot(me);
  }

  /** Count of members alive or suspect, ourselves included. */
  numMembers(): number {
    return this.#ctx.table.numMembers();
  }

  /** Lifeguard local health score: 0 is healthy, up to `awarenessMaxMultiplier − 1`. */
  healthScore(): number {
    return this.#ctx.awareness.score;
  }

  /**
   * Sends a user message in one datagram (type 8), best effort, to a member name or an address.
   * Resolves `false` when it could not be sent (unknown member, transport refused).
   */
  async sendBestEffort(to: Address | string, payload: Uint8Array): Promise<boolean> {
    this.#assertRunning("send");
    const target = this.#resolve(to);
    if (!target) return false;
    const msg = new Uint8Array(payload.length + 1);
    msg[0] = MessageType.user;
    msg.set(payload, 1);
    const ok = await this.#ctx.io.sendRaw(target.address, [msg], target.member);
    if (ok) this.#ctx.stats.userMessagesOut++;
    return ok;
  }

  /**
   * Sends a user message over a stream (reliable); rejects when the member is unknown or the
   * stream cannot be opened or written within `tcpTimeout`.
   */
  async sendReliable(to: Address | string, payload: Uint8Array): Promise<void> {
    this.#assertRunning("send");
    const target = this.#resolve(to);
    if (!target) throw new RangeError(`Cannot send message: unknown member: received ${to}`);
    await sendUserStream(this.#ctx, target.address, payload);
  }

  #resolve(to: Address | string): { address: Address; member?: Member } | undefined {
    if (typeof to !== "string") return { address: to };
    const member = this.#ctx.table.get(to);
    const address = member && addressOf(member);
    return address && { address, member };
  }

  #assertRunning(what: string): void {
    if (!this.#started || this.#engine.closed) {
      throw new Error(`Cannot ${what}: memberlist is not running`);
    }
  }

  #nodeMeta(): Uint8Array {
    const meta = this.#ctx.delegate.nodeMeta(META_MAX_SIZE);
    if (meta.length > META_MAX_SIZE) {
      throw new RangeError(
        `Cannot announce node: meta must be at most ${META_MAX_SIZE} bytes: received ${meta.length}`,
      );
    }
    return meta;
  }

  async #waitBroadcast(sent: Promise<boolean>, timeoutMs: number): Promise<boolean> {
    if (!this.#ctx.table.anyAlive()) return true;
    // Shutting down while waiting ends the wait (unconfirmed).
    const waited = Promise.race([sent, this.#shutDown.promise]);
    if (timeoutMs <= 0) return await waited;
    return await this.#ctx.timers.race(waited, timeoutMs, false);
  }
}
