/**
 * Test doubles for replication: {@link MemoryReplicationNetwork}, which connects replicators in
 * one process without sockets (deterministic on a virtual clock), and {@link PartitionTransport},
 * which wraps any transport and drops the requests between nodes put on different sides of a
 * partition (the fault-injection hook of the in-process partition tests), and
 * {@link ReplicatorCluster}, a few replicators on one virtual clock over that network.
 *
 * @module
 */

import { TtlStore } from "../store/mod.ts";
import { VirtualClock } from "../util/clock.ts";
import { HybridLogicalClock } from "../util/hlc.ts";
import { SeededRandom } from "../util/random.ts";
import { Replicator, SyncNotReadyError } from "./replicator.ts";
import { NotServedError } from "./cluster_ops.ts";
import type { AckRequirement } from "./write_acks.ts";
import type { ReplicatorOptions } from "./replicator_options.ts";
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
  /** Handles `POST /internal/read`. */
  read(body: Uint8Array): Uint8Array;
  /** Handles `POST /internal/list` (absent: answered 404). */
  list?(body: Uint8Array): Uint8Array;
  /** Handles `POST /internal/purge` (absent: answered 404). */
  purge?(body: Uint8Array): Promise<Uint8Array>;
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
  readonly delivered: Record<ReplicationRoute, number> = {
    replicate: 0,
    sync: 0,
    read: 0,
    list: 0,
    purge: 0,
  };
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
      switch (route) {
        case "replicate":
          return target.receiveBatch(body);
        case "sync":
          return target.answerSync(body);
        case "read":
          return target.read(body);
        case "list":
          if (target.list) return target.list(body);
          break;
        case "purge":
          if (target.purge) return await target.purge(body);
          break;
      }
    } catch (err) {
      if (err instanceof SyncNotReadyError) throw new PeerRequestError(err.message, 503, true);
      if (err instanceof NotServedError) throw new PeerRequestError(err.message, 501, false);
      throw new PeerRequestError((err as Error).message, 400, false);
    }
    throw new PeerRequestError(`${peer.name} has no route ${route}`, 404, false);
  }
}

/** One node of a {@link ReplicatorCluster}. */
export interface ReplicatorNode {
  /** Its replication engine. */
  replicator: Replicator;
  /** Its store. */
  store: TtlStore;
  /** Its clock of versions. */
  hlc: HybridLogicalClock;
}

/** A few replicators on one virtual clock, connected by a {@link MemoryReplicationNetwork}. */
export class ReplicatorCluster {
  /** The shared virtual clock. */
  readonly clock: VirtualClock = new VirtualClock();
  /** The network between the nodes. */
  readonly net: MemoryReplicationNetwork = new MemoryReplicationNetwork();
  /** Nodes by name. */
  readonly nodes: Map<string, ReplicatorNode> = new Map();

  /** @param replicas copies per key (0 = every node holds everything) @param buckets digest buckets */
  constructor(readonly replicas = 0, readonly buckets = 64) {}

  /**
   * Adds a stopped node (it copies the data set from a peer first when `initialSync`), serving
   * `list` and `purge` with the callbacks in `ops`.
   */
  add(
    name: string,
    initialSync = false,
    ops: Pick<ReplicatorOptions, "onList" | "onPurge"> = {},
  ): ReplicatorNode {
    const store = new TtlStore({ clock: this.clock, digestBuckets: this.buckets });
    const hlc = new HybridLogicalClock(this.clock);
    const replicator = new Replicator({
      name,
      store,
      hlc,
      transport: this.net.transport(name),
      limits: { maxKeyBytes: 256, maxValueBytes: 4096 },
      initialSync,
      replicas: this.replicas,
      settings: { antiEntropyIntervalMs: 1000, requestTimeoutMs: 500 },
      clock: this.clock,
      random: new SeededRandom(name.length),
      ...ops,
    });
    this.net.register(name, replicator);
    const node = { replicator, store, hlc };
    this.nodes.set(name, node);
    return node;
  }

  /** Tells every node about every other (membership) and starts them. */
  connect(): void {
    for (const [a, x] of this.nodes) {
      for (const b of this.nodes.keys()) {
        if (a !== b) x.replicator.peerUp({ name: b, host: "mem", httpPort: 1 });
      }
    }
    for (const n of this.nodes.values()) n.replicator.start();
  }

  /** Adds `name` with an initial copy, introduces it to every node and starts it. */
  join(name: string): ReplicatorNode {
    const node = this.add(name, true);
    for (const [other, x] of this.nodes) {
      if (other === name) continue;
      x.replicator.peerUp({ name, host: "mem", httpPort: 1 });
      node.replicator.peerUp({ name: other, host: "mem", httpPort: 1 });
    }
    node.replicator.start();
    return node;
  }

  /** Kills `name` (unreachable, state gone) and tells the others it died. */
  kill(name: string): void {
    this.nodes.get(name)?.replicator.close();
    this.nodes.delete(name);
    this.net.unregister(name);
    for (const n of this.nodes.values()) n.replicator.peerDown(name);
  }

  /** Writes on `name` (a null value deletes) and hands the write to its replication. */
  write(
    name: string,
    key: string,
    value: string | null,
    acks?: AckRequirement,
  ): Promise<void> | undefined {
    const n = this.nodes.get(name)!;
    const record = { value, expiresAt: 0, version: n.hlc.version(name) };
    n.store.apply(key, record);
    return n.replicator.publish(key, record, acks);
  }

  /** Advances virtual time in 10 ms steps, letting requests and answers run in between. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 10) {
      this.clock.advance(10);
      await new Promise((r) => setTimeout(r, 0)); // drains every microtask chain
    }
  }

  /** Every node's whole-store digest. */
  digests(): string[] {
    return [...this.nodes.values()].map((n) => n.store.digest());
  }

  /** Closes every node. */
  close(): void {
    for (const n of this.nodes.values()) n.replicator.close();
  }
}
