/**
 * One endpoint of the in-memory network: its handlers, counters, open streams, and the queue of
 * work held back while the node is paused. Internal to the memory transport.
 *
 * @module
 */

import type { Clock, TimerId } from "../util/clock.ts";
import type { TransportLogger } from "./logger.ts";
import { createTransportStats } from "./stats.ts";
import type { Address, Packet, PacketHandler, StreamHandler } from "./transport.ts";

/** Lifecycle of a node: `down` once its transport was closed or killed. */
export type MemoryNodeState = "up" | "paused" | "down";

/**
 * What a node keeps of each of its open stream ends: enough to cut them all when it goes down.
 * (The stream end itself, `MemoryStreamConn`, builds on the node; this keeps the import one-way.)
 */
export interface NodeStreamEnd {
  /** Closes this end at once, even while the node is paused or killed. */
  abort(): void;
}

/** Handle of a timer on a node's clock; cancellation must also stop a run held by a pause. */
interface NodeTimer {
  id: TimerId;
  cancelled: boolean;
}

/** A node attached to a {@link MemoryNetwork}. */
export class MemoryNode {
  readonly key: string;
  readonly address: Address;
  readonly stats = createTransportStats();
  /** The node's view of time: timers that fall due while it is paused run at resume. */
  readonly clock: Clock;
  state: MemoryNodeState = "up";
  /** Killed nodes also lose their pending timers, like a process that got SIGKILL. */
  killed = false;
  packetHandler: PacketHandler | undefined;
  streamHandler: StreamHandler | undefined;
  /** Open stream ends, aborted by the network when the node goes down. */
  readonly conns = new Set<NodeStreamEnd>();
  readonly pendingDials = new Set<(error: Error) => void>();
  #held: (() => void)[] = [];
  #heldPacketBytes = 0;
  #draining = false;
  #network: Clock;
  #log: TransportLogger;

  constructor(key: string, address: Address, network: Clock, log: TransportLogger) {
    this.key = key;
    this.address = address;
    this.#network = network;
    this.#log = log;
    this.clock = {
      now: () => network.now(),
      setTimeout: (fn, ms) => {
        const timer: NodeTimer = { id: undefined, cancelled: false };
        timer.id = network.setTimeout(() => this.run(() => timer.cancelled || fn()), ms);
        return timer;
      },
      clearTimeout: (handle) => {
        const timer = handle as NodeTimer | undefined;
        if (timer === undefined || typeof timer !== "object") return;
        timer.cancelled = true;
        network.clearTimeout(timer.id);
      },
    };
  }

  /** Runs `fn` now, or at resume when paused; drops it once the node was killed. */
  run(fn: () => void): void {
    if (this.state === "paused") this.#held.push(fn);
    else if (!this.killed) fn();
  }

  /**
   * Hands a packet to the handler, or holds it while paused (up to `limit` bytes, like a socket
   * buffer). Returns `false` when the pause queue overflowed and the packet was dropped.
   */
  receivePacket(from: Address, data: Uint8Array, limit: number): boolean {
    if (this.state !== "paused") {
      this.#handOver(from, data);
      return true;
    }
    if (this.#heldPacketBytes + data.length > limit) {
      this.stats.packetsDropped++;
      return false;
    }
    this.#heldPacketBytes += data.length;
    this.#held.push(() => {
      this.#heldPacketBytes -= data.length;
      this.#handOver(from, data);
    });
    return true;
  }

  /** Stops running the node's code until {@link MemoryNode.resume}. */
  pause(): void {
    if (this.state === "up") this.state = "paused";
  }

  /** Lets the node run again; held work runs in order, on the clock, as soon as it can. */
  resume(): void {
    if (this.state !== "paused") return;
    this.state = "up";
    if (this.#held.length > 0 && !this.#draining) {
      this.#draining = true;
      this.#network.setTimeout(() => this.#drain(), 0);
    }
  }

  /** Marks the node gone and forgets held work; the network closes streams and dials. */
  shutDown(killed: boolean): void {
    this.state = "down";
    this.killed ||= killed;
    this.#held = [];
    this.#heldPacketBytes = 0;
  }

  #drain(): void {
    this.#draining = false;
    const held = this.#held;
    this.#held = [];
    let i = 0;
    // A handler may pause the node again: stop there and keep the rest for the next resume.
    for (; i < held.length && this.state === "up"; i++) held[i]();
    if (i < held.length) this.#held = held.slice(i).concat(this.#held);
  }

  #handOver(from: Address, data: Uint8Array): void {
    const handler = this.packetHandler;
    if (handler === undefined || data.length === 0 || this.state === "down") {
      this.stats.packetsDropped++;
      return;
    }
    this.stats.packetsIn++;
    this.stats.bytesIn += data.length;
    const packet: Packet = { data, from, receivedAt: this.#network.now() };
    try {
      handler(packet);
    } catch (error) {
      this.stats.errors++;
      this.#log("error", `${this.key}: packet handler threw`, error);
    }
  }
}
