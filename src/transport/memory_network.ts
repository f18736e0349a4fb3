/**
 * An in-process network for deterministic protocol tests and large simulations. Nodes attach
 * at an address and get a {@link MemoryTransport}; the network delivers packets and stream
 * bytes by scheduling them on one {@link Clock} (normally a {@link VirtualClock}), after a
 * latency, with seeded loss, partitions, paused and killed nodes. Nothing runs per node while
 * idle: the only timers are in-flight packets and stream chunks.
 *
 * Semantics worth knowing:
 * - Loss and partitions are decided when a packet is sent; a packet in flight when a partition
 *   starts still arrives. A packet to an address with no live node is dropped on arrival.
 * - Streams ignore random loss (TCP retransmits) but not cuts: a dial across a partition, an
 *   isolation or a 100%-loss link times out; bytes already on a stream stall and retry every
 *   `streamRetryMs` until the cut heals (or the engine gives up and closes).
 * - `pause(address)` models SIGSTOP: nothing of the node runs and nothing leaves it until
 *   `resume`. Inbound packets queue up to `pausedQueueBytes` (then drop, like a full socket
 *   buffer) and are handed over at resume with `receivedAt` = resume time; inbound stream
 *   bytes and new streams wait (dials to it still connect: the kernel accepts); its outbound
 *   packets and stream writes are held and leave at resume; timers of `transport.clock` that
 *   fall due meanwhile run at resume.
 * - `kill(address)` models SIGKILL: the transport is gone (its sends resolve `false`, dials to
 *   it are refused, packets to it are lost), its streams end with EOF at the peers, held work
 *   and `transport.clock` timers are dropped. The address can be attached again (a restart).
 *
 * Over 400 lines: one network object owns every node's packets, streams, pauses and kills, which
 * must see each other's state (the per-node parts are in `_memory_node.ts`, `_memory_stream_conn.ts`).
 *
 * @module
 */

import { byteSlab } from "../util/byte_slab.ts";
import { type Clock, type TimerId, VirtualClock } from "../util/clock.ts";
import { type Random, SeededRandom } from "../util/random.ts";
import { MemoryNode } from "./_memory_node.ts";
import { MemoryStreamConn, type StreamRoute } from "./_memory_stream_conn.ts";
import { checkConditions, type LinkConditions, NetworkConditions } from "./_network_conditions.ts";
import { consoleLogger, type TransportLogger } from "./logger.ts";
import { type MemoryFabric, MemoryTransport } from "./memory_transport.ts";
import type { TransportStats } from "./stats.ts";
import { type Address, formatAddress, parseAddress, type StreamConn } from "./transport.ts";

export type { LinkConditions };

/** Options of {@link MemoryNetwork}. */
export interface MemoryNetworkOptions {
  /** The clock that carries every delivery. @default {new VirtualClock()} */
  clock?: Clock;
  /** Source of loss and jitter draws. @default {new SeededRandom(1)} */
  random?: Random;
  /** Default one-way latency, ms. @default {0} */
  latencyMs?: number;
  /** Default jitter added to the latency, uniform in [0, jitterMs), ms. @default {0} */
  jitterMs?: number;
  /** Default packet loss probability, 0..1. @default {0} */
  loss?: number;
  /** Largest datagram `sendPacket` accepts. @default {65536} */
  maxPacketSize?: number;
  /** Bytes of inbound packets a paused node holds before dropping more. @default {2097152} */
  pausedQueueBytes?: number;
  /** Retry interval of stream bytes stalled by a cut path, ms. @default {200} */
  streamRetryMs?: number;
  /** Where handler exceptions are reported. @default {consoleLogger} */
  logger?: TransportLogger;
}

/** Why the network dropped a packet. */
export type DropReason = "loss" | "partition" | "filtered" | "unreachable" | "queue-full";

/** A packet as a {@link PacketTap} sees it, once, when it is sent. */
export interface PacketEvent {
  /** Sender. */
  from: Address;
  /** Destination. */
  to: Address;
  /** The bytes (do not modify). */
  data: Uint8Array;
  /** Send time, ms. */
  sentAt: number;
  /** Planned arrival time, ms (equal to `sentAt` for packets dropped at send). */
  deliverAt: number;
  /**
   * Set when the packet is dropped at send. `undefined` means in flight; it can still be lost
   * on arrival (`unreachable`, `queue-full`), which only {@link NetworkStats} counts.
   */
  dropped: DropReason | undefined;
}

/**
 * Observes every sent packet; returning `false` drops a packet still in flight (reason
 * `filtered`), so tests can cut specific messages. Taps run in the order they were added.
 */
export type PacketTap = (event: PacketEvent) => boolean | void;

/** Network-wide packet counters. */
export interface NetworkStats {
  /** Packets accepted by the network from live senders. */
  packetsSent: number;
  /** Bytes of those packets. */
  bytesSent: number;
  /** Packets handed to a live node (which may still drop them: no handler, empty). */
  packetsDelivered: number;
  /** Packets dropped by the network, by reason. */
  dropped: Record<DropReason, number>;
}

/** An in-process network of {@link MemoryTransport}s. */
export class MemoryNetwork {
  /** The clock that carries every delivery. */
  readonly clock: Clock;
  #conditions: NetworkConditions;
  #nodes = new Map<string, MemoryNode>();
  #taps: PacketTap[] = [];
  #stats: NetworkStats = {
    packetsSent: 0,
    bytesSent: 0,
    packetsDelivered: 0,
    dropped: { loss: 0, partition: 0, filtered: 0, unreachable: 0, "queue-full": 0 },
  };
  #maxPacketSize: number;
  #pausedQueueBytes: number;
  #log: TransportLogger;
  #nextPort = 20000;
  // Only a real clock needs its timers cancelled at close (Deno's sanitizers); virtual ones don't.
  #timers: Set<TimerId> | undefined;
  #closed = false;
  #fabric: MemoryFabric;
  #route: StreamRoute;

  /** Creates an empty network. Throws a `RangeError` on bad options. */
  constructor(options: MemoryNetworkOptions = {}) {
    this.clock = options.clock ?? new VirtualClock();
    const defaults = {
      latencyMs: options.latencyMs ?? 0,
      jitterMs: options.jitterMs ?? 0,
      loss: options.loss ?? 0,
    };
    checkConditions("network defaults", defaults);
    this.#conditions = new NetworkConditions(defaults, options.random ?? new SeededRandom(1));
    this.#maxPacketSize = options.maxPacketSize ?? 65536;
    this.#pausedQueueBytes = options.pausedQueueBytes ?? 2 * 1024 * 1024;
    this.#log = options.logger ?? consoleLogger;
    if (!(this.clock instanceof VirtualClock)) this.#timers = new Set();
    this.#fabric = {
      sendPacket: (node, to, data) => this.#sendPacket(node, to, data),
      dialStream: (node, to, timeoutMs) => this.#dial(node, to, timeoutMs),
      detach: (node) => this.#shutDown(node, false),
    };
    const conditions = this.#conditions;
    this.#route = {
      now: () => this.clock.now(),
      delay: (from, to) => conditions.delay(from.key, to.key),
      cut: (from, to) =>
        conditions.isCut(from.key, to.key) || conditions.deliveryChance(from.key, to.key) === 0,
      schedule: (fn, ms) => void this.#schedule(fn, ms),
      retryMs: options.streamRetryMs ?? 200,
    };
  }

  /** Network-wide counters (live object). */
  get stats(): Readonly<NetworkStats> {
    return this.#stats;
  }

  /** Number of live (up or paused) nodes. */
  get size(): number {
    return this.#nodes.size;
  }

  /**
   * Attaches a node and returns its transport. Port 0 picks an unused port. Throws
   * `Deno.errors.AddrInUse` when a live node holds the address.
   */
  attach(address: Address | string): MemoryTransport {
    if (this.#closed) throw new Deno.errors.BadResource("Cannot attach: the network is closed");
    let a = typeof address === "string" ? parseAddress(address) : { ...address };
    if (a.port === 0) {
      while (this.#nodes.has(formatAddress({ host: a.host, port: this.#nextPort }))) {
        this.#nextPort++;
      }
      a = { host: a.host, port: this.#nextPort++ };
    }
    const key = formatAddress(a);
    if (this.#nodes.has(key)) {
      throw new Deno.errors.AddrInUse(`Cannot attach ${key}: address in use`);
    }
    const node = new MemoryNode(key, Object.freeze(a), this.clock, this.#log);
    this.#nodes.set(key, node);
    return new MemoryTransport(node, this.#fabric);
  }

  /** Counters of the live node at `address`, if any. */
  statsOf(address: Address | string): Readonly<TransportStats> | undefined {
    return this.#nodes.get(keyOf(address))?.stats;
  }

  /** Changes the default conditions of every path (fields left out keep their value). */
  setDefaults(conditions: Partial<LinkConditions>): void {
    checkConditions("network defaults", conditions);
    this.#conditions.defaults = { ...this.#conditions.defaults, ...conditions };
  }

  /** Overrides the defaults on the one-way path `from` → `to`; `undefined` removes it. */
  setLink(
    from: Address | string,
    to: Address | string,
    conditions?: Partial<LinkConditions>,
  ): void {
    if (conditions !== undefined) checkConditions("link conditions", conditions);
    this.#conditions.setLink(keyOf(from), keyOf(to), conditions);
  }

  /**
   * Adds latency, jitter and loss to everything in and out of one node (a slow or lossy host),
   * on top of the path's conditions; `undefined` removes it.
   */
  setNodeConditions(address: Address | string, conditions?: Partial<LinkConditions>): void {
    if (conditions !== undefined) checkConditions("node conditions", conditions);
    this.#conditions.setNode(keyOf(address), conditions);
  }

  /** Cuts both directions between every node of `a` and every node of `b`; returns its undo. */
  partition(a: Iterable<Address | string>, b: Iterable<Address | string>): () => void {
    return this.#conditions.partition([...a].map(keyOf), [...b].map(keyOf));
  }

  /** Cuts a node off from all others (it can still reach itself); returns its undo. */
  isolate(address: Address | string): () => void {
    return this.#conditions.isolate(keyOf(address));
  }

  /** Removes every partition and isolation. */
  heal(): void {
    this.#conditions.heal();
  }

  /** Stops the node like SIGSTOP (see the module doc). Returns `false` if no node is there. */
  pause(address: Address | string): boolean {
    const node = this.#nodes.get(keyOf(address));
    node?.pause();
    return node !== undefined;
  }

  /** Lets a paused node run again; held work runs in order. `false` if no node is there. */
  resume(address: Address | string): boolean {
    const node = this.#nodes.get(keyOf(address));
    node?.resume();
    return node !== undefined;
  }

  /** Removes the node like SIGKILL (see the module doc). `false` if no node is there. */
  kill(address: Address | string): boolean {
    const node = this.#nodes.get(keyOf(address));
    if (node !== undefined) this.#shutDown(node, true);
    return node !== undefined;
  }

  /** Adds a packet tap; returns its removal. */
  tap(tap: PacketTap): () => void {
    this.#taps = [...this.#taps, tap];
    return () => {
      this.#taps = this.#taps.filter((t) => t !== tap);
    };
  }

  /** Closes every transport and cancels pending deliveries (on a real clock). Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    for (const node of [...this.#nodes.values()]) this.#shutDown(node, false);
    for (const id of this.#timers ?? []) this.clock.clearTimeout(id);
    this.#timers?.clear();
    return Promise.resolve();
  }

  #sendPacket(src: MemoryNode, to: Address, data: Uint8Array): boolean {
    if (src.state === "down") return false;
    if (data.length > this.#maxPacketSize) {
      src.stats.errors++;
      return false;
    }
    if (src.state === "paused") {
      const held = data.slice();
      src.run(() => void this.#sendPacket(src, to, held));
      return true;
    }
    src.stats.packetsOut++;
    src.stats.bytesOut += data.length;
    this.#stats.packetsSent++;
    this.#stats.bytesSent += data.length;
    const toKey = formatAddress(to);
    const conditions = this.#conditions;
    let dropped: DropReason | undefined;
    let delay = 0;
    if (conditions.isCut(src.key, toKey)) dropped = "partition";
    else if (conditions.lost(src.key, toKey)) dropped = "loss";
    else delay = conditions.delay(src.key, toKey);
    if (this.#taps.length > 0) dropped = this.#runTaps(src.address, to, data, delay, dropped);
    if (dropped !== undefined) {
      this.#stats.dropped[dropped]++;
      return true;
    }
    // A private copy (so the sender may reuse its buffer), carved from the shared byte slab.
    const copy = byteSlab.copy(data);
    this.#schedule(() => this.#deliver(src.address, toKey, copy), delay);
    return true;
  }

  #runTaps(
    from: Address,
    to: Address,
    data: Uint8Array,
    delay: number,
    dropped: DropReason | undefined,
  ): DropReason | undefined {
    const sentAt = this.clock.now();
    const event: PacketEvent = { from, to, data, sentAt, deliverAt: sentAt + delay, dropped };
    for (const tap of this.#taps) {
      if (tap(event) === false && event.dropped === undefined) event.dropped = "filtered";
    }
    return event.dropped;
  }

  #deliver(from: Address, toKey: string, data: Uint8Array): void {
    const dest = this.#nodes.get(toKey);
    if (dest === undefined || dest.state === "down") this.#stats.dropped.unreachable++;
    else if (dest.receivePacket(from, data, this.#pausedQueueBytes)) this.#stats.packetsDelivered++;
    else this.#stats.dropped["queue-full"]++;
  }

  #dial(src: MemoryNode, to: Address, timeoutMs: number): Promise<StreamConn> {
    const toKey = formatAddress(to);
    if (src.state === "down") {
      return Promise.reject(
        new Deno.errors.BadResource(`Cannot dial ${toKey}: transport is closed`),
      );
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error) => {
        if (settled) return;
        settled = true;
        this.#cancel(timer);
        src.pendingDials.delete(fail);
        src.stats.dialFailures++;
        reject(error);
      };
      src.pendingDials.add(fail);
      // Outcomes run as the dialer's code: held while it is paused.
      const timedOut = () =>
        fail(new Deno.errors.TimedOut(`Cannot dial ${toKey}: timed out after ${timeoutMs} ms`));
      const timer = this.#schedule(() => src.run(timedOut), timeoutMs);
      const blackholed = () =>
        this.#conditions.isCut(src.key, toKey) ||
        this.#conditions.deliveryChance(src.key, toKey) === 0;
      if (blackholed()) return; // the SYN is lost: only the timeout remains
      const oneWay = this.#conditions.delay(src.key, toKey);
      this.#schedule(() => {
        if (settled) return;
        const dest = this.#nodes.get(toKey);
        if (dest === undefined || dest.state === "down") {
          const refused = new Deno.errors.ConnectionRefused(
            `Cannot dial ${toKey}: connection refused`,
          );
          this.#schedule(() => src.run(() => fail(refused)), oneWay);
          return;
        }
        if (blackholed()) return;
        const [client, server] = MemoryStreamConn.pair(this.#route, src, dest);
        dest.run(() => this.#accept(dest, server));
        const connected = () => {
          if (settled) return client.abort(); // the dialer gave up: the server reads EOF
          settled = true;
          this.#cancel(timer);
          src.pendingDials.delete(fail);
          src.stats.streamsOut++;
          resolve(client);
        };
        this.#schedule(() => src.run(connected), oneWay);
      }, oneWay);
    });
  }

  #accept(dest: MemoryNode, server: MemoryStreamConn): void {
    const handler = dest.streamHandler;
    if (server.closed || dest.state === "down") return;
    if (handler === undefined) return server.close();
    dest.stats.streamsIn++;
    try {
      handler(server);
    } catch (error) {
      dest.stats.errors++;
      this.#log("error", `${dest.key}: stream handler threw`, error);
      server.close();
    }
  }

  #shutDown(node: MemoryNode, killed: boolean): void {
    if (node.state === "down") return;
    node.shutDown(killed);
    if (this.#nodes.get(node.key) === node) this.#nodes.delete(node.key);
    const closed = () =>
      new Deno.errors.BadResource(`Cannot dial from ${node.key}: transport is closed`);
    for (const fail of [...node.pendingDials]) fail(closed());
    for (const conn of [...node.conns]) conn.abort();
  }

  #schedule(fn: () => void, ms: number): TimerId {
    const timers = this.#timers;
    if (timers === undefined) return this.clock.setTimeout(fn, ms);
    const id = this.clock.setTimeout(() => {
      timers.delete(id);
      fn();
    }, ms);
    timers.add(id);
    return id;
  }

  #cancel(id: TimerId): void {
    this.clock.clearTimeout(id);
    this.#timers?.delete(id);
  }
}

function keyOf(address: Address | string): string {
  return formatAddress(typeof address === "string" ? parseAddress(address) : address);
}
