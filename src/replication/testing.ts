/**
 * Test doubles for replication: {@link MemoryReplicationNetwork}, which connects replicators in
 * one process without sockets (deterministic on a virtual clock), and {@link PartitionTransport},
 * which wraps any transport and drops the requests between nodes put on different sides of a
 * partition (the fault-injection hook of the in-process partition tests).
 *
 * @module
 */

import { SyncNotReadyError } from "./replicator.ts";
import {
  type PeerAddress,
  PeerRequestError,
  type ReplicationRoute,
  type ReplicationTransport,
} from "./transport.ts";

/** What a node exposes to the in-memory network (a `Replicator` fits). */
export interface ReplicationEndpoint {
  /** Handles `POST /internal/replicate`. */
  receiveBatch(body: Uint8Array): Uint8Array;
  /** Handles `POST /internal/sync`. */
  answerSync(body: Uint8Array): Uint8Array;
}

/** Which pairs of nodes cannot reach each other. */
export class Partition {
  readonly #sides = new Map<string, number>();

  /** Puts each group on its own side; nodes not named can reach everyone. */
  split(...groups: string[][]): void {
    this.#sides.clear();
    groups.forEach((g, i) => g.forEach((name) => this.#sides.set(name, i)));
  }

  /** Removes the partition. */
  heal(): void {
    this.#sides.clear();
  }

  /** Whether requests from `from` to `to` are dropped. */
  blocks(from: string, to: string): boolean {
    const a = this.#sides.get(from), b = this.#sides.get(to);
    return a !== undefined && b !== undefined && a !== b;
  }
}

/** A transport that fails requests across a {@link Partition}, else delegates to `inner`. */
export class PartitionTransport implements ReplicationTransport {
  /** Requests dropped so far. */
  dropped = 0;

  /** Wraps `inner` for node `from`. */
  constructor(
    readonly inner: ReplicationTransport,
    readonly from: string,
    readonly partition: Partition,
  ) {}

  /** Fails at once across the partition (as a refused connection would). */
  request(
    peer: PeerAddress,
    route: ReplicationRoute,
    body: Uint8Array,
    timeoutMs: number,
  ): Promise<Uint8Array> {
    if (this.partition.blocks(this.from, peer.name)) {
      this.dropped++;
      return Promise.reject(new PeerRequestError(`partitioned from ${peer.name}`, 0, true));
    }
    return this.inner.request(peer, route, body, timeoutMs);
  }

  /** Closes `inner`. */
  close(): void {
    this.inner.close();
  }
}

/** Replicators of one process connected by direct calls (answers arrive in a later task). */
export class MemoryReplicationNetwork {
  /** Which pairs are cut off. */
  readonly partition: Partition = new Partition();
  /** Requests delivered, by route. */
  readonly delivered: Record<ReplicationRoute, number> = { replicate: 0, sync: 0 };
  readonly #nodes = new Map<string, ReplicationEndpoint>();

  /** Makes `endpoint` reachable as `name` (replaces an earlier one: a restart). */
  register(name: string, endpoint: ReplicationEndpoint): void {
    this.#nodes.set(name, endpoint);
  }

  /** Makes `name` unreachable (a killed node). */
  unregister(name: string): void {
    this.#nodes.delete(name);
  }

  /** The transport node `from` sends with. */
  transport(from: string): ReplicationTransport {
    return {
      request: (peer, route, body) => this.#deliver(from, peer, route, body),
      close: () => {},
    };
  }

  async #deliver(
    from: string,
    peer: PeerAddress,
    route: ReplicationRoute,
    body: Uint8Array,
  ): Promise<Uint8Array> {
    await Promise.resolve();
    const target = this.#nodes.get(peer.name);
    if (!target || this.partition.blocks(from, peer.name)) {
      throw new PeerRequestError(`Cannot reach ${peer.name}`, 0, true);
    }
    try {
      this.delivered[route]++;
      return route === "replicate" ? target.receiveBatch(body) : target.answerSync(body);
    } catch (err) {
      if (err instanceof SyncNotReadyError) throw new PeerRequestError(err.message, 503, true);
      throw new PeerRequestError((err as Error).message, 400, false);
    }
  }
}
