/**
 * A node's {@link Transport} on a {@link MemoryNetwork}: what `network.attach(address)` returns.
 * All behaviour (latency, loss, partitions, pause, kill) lives in the network; this is the door
 * the protocol engine sees, plus the node's counters and its pause-aware clock.
 *
 * @module
 */

import type { Clock } from "../util/clock.ts";
import type { MemoryNode, MemoryNodeState } from "./_memory_node.ts";
import type { TransportStats } from "./stats.ts";
import type { Address, PacketHandler, StreamConn, StreamHandler, Transport } from "./transport.ts";

/** What a {@link MemoryTransport} asks of its network. Implemented by `MemoryNetwork`. */
export interface MemoryFabric {
  /** Routes one datagram; `false` when it could not be sent at all. */
  sendPacket(node: MemoryNode, to: Address, data: Uint8Array): boolean;
  /** Opens a stream on the network's clock. */
  dialStream(node: MemoryNode, to: Address, timeoutMs: number): Promise<StreamConn>;
  /** Takes the node off the network (graceful close). */
  detach(node: MemoryNode): void;
}

/** A {@link Transport} on an in-memory network. Create it with `MemoryNetwork.attach`. */
export class MemoryTransport implements Transport {
  #node: MemoryNode;
  #fabric: MemoryFabric;

  /** Internal: use `MemoryNetwork.attach`. */
  constructor(node: MemoryNode, fabric: MemoryFabric) {
    this.#node = node;
    this.#fabric = fabric;
  }

  /** The attached address. */
  get localAddress(): Address {
    return this.#node.address;
  }

  /** Live traffic counters of this node. */
  get stats(): Readonly<TransportStats> {
    return this.#node.stats;
  }

  /**
   * The network clock as this node lives it: timers that fall due while the node is paused run
   * when it resumes, and never once it was killed. Give it to the node's protocol engine so
   * `pause` models a stopped process.
   */
  get clock(): Clock {
    return this.#node.clock;
  }

  /** `up`, `paused`, or `down` (closed or killed). */
  get state(): MemoryNodeState {
    return this.#node.state;
  }

  /** Whether this transport was closed or killed. */
  get closed(): boolean {
    return this.#node.state === "down";
  }

  /**
   * Sends one datagram. Resolves `true` once the network took it (it may still be lost),
   * `false` when closed or when larger than the network's `maxPacketSize`.
   */
  sendPacket(to: Address, data: Uint8Array): Promise<boolean> {
    return Promise.resolve(this.#fabric.sendPacket(this.#node, to, data));
  }

  /**
   * Opens a stream after one round trip. Rejects with `Deno.errors.ConnectionRefused` when
   * nothing listens at `to`, `Deno.errors.TimedOut` after `timeoutMs` when the path is cut,
   * and `Deno.errors.BadResource` when this transport is closed.
   */
  dialStream(to: Address, timeoutMs: number): Promise<StreamConn> {
    return this.#fabric.dialStream(this.#node, to, timeoutMs);
  }

  /** Registers the packet handler. Packets that arrive with no handler are dropped. */
  onPacket(handler: PacketHandler): void {
    this.#node.packetHandler = handler;
  }

  /** Registers the stream handler. Streams that arrive with no handler are closed. */
  onStream(handler: StreamHandler): void {
    this.#node.streamHandler = handler;
  }

  /** Leaves the network: open streams end (peers read EOF), pending dials reject. Idempotent. */
  close(): Promise<void> {
    this.#fabric.detach(this.#node);
    return Promise.resolve();
  }

  /** Same as {@link MemoryTransport.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
