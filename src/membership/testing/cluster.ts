/**
 * A virtual-time cluster harness for protocol tests: N {@link Memberlist} engines on one
 * {@link MemoryNetwork} driven by one {@link VirtualClock}, each on its own pause-aware node
 * clock and seeded randomness, recording events and user messages. `until` runs the clock until
 * a condition holds and reports when it did, so tests can measure convergence and detection.
 *
 * ```ts
 * const cluster = new TestCluster({ config: lanConfig() });
 * await cluster.start(["a", "b"], { seeds: ["a"] });
 * const ms = await cluster.until(() => cluster.allSee("alive"), 10_000);
 * ```
 *
 * @module
 */

import { MemoryNetwork, type MemoryTransport, runFor } from "../../transport/mod.ts";
import type { Address } from "../../transport/transport.ts";
import { VirtualClock } from "../../util/clock.ts";
import type { Logger } from "../../util/log.ts";
import { SeededRandom } from "../../util/random.ts";
import { lanConfig, type MembershipConfig } from "../config.ts";
import type { MembershipDelegate, MemberSnapshot, MemberStateName } from "../delegate.ts";
import { Memberlist, type MemberlistOptions } from "../memberlist.ts";

/** Options of {@link TestCluster}. */
export interface TestClusterOptions {
  /** Protocol config of every node. @default lanConfig() */
  config?: MembershipConfig;
  /** One-way latency, ms. @default 1 */
  latencyMs?: number;
  /** Extra latency uniform in [0, jitterMs), ms. @default 1 */
  jitterMs?: number;
  /** Packet loss on every link, 0..1. @default 0 */
  loss?: number;
  /** Seed of every random draw. @default 1 */
  seed?: number;
  /** Logger of every engine. @default silent */
  logger?: Logger;
}

/** Per-node options of {@link TestCluster.add}. */
export interface TestNodeOptions {
  /** Names of other cluster nodes to use as seeds (background join). @default [] */
  seeds?: string[];
  /** Node metadata. @default empty */
  meta?: Uint8Array;
  /** Extra delegate hooks (nodeMeta is derived from `meta` unless given). */
  delegate?: MembershipDelegate;
  /** Overrides of the cluster config for this node. */
  config?: Partial<MembershipConfig>;
  /** Extra engine options. */
  options?: Partial<MemberlistOptions>;
  /** The address of a node that shut down, to restart it there. @default the next one */
  address?: Address;
}

/** One event a node saw. */
export interface RecordedEvent {
  /** Virtual time, ms since the cluster was created. */
  at: number;
  /** Kind. */
  type: "join" | "leave" | "update";
  /** The member concerned. */
  member: MemberSnapshot;
}

/** A node of the harness. */
export interface TestNode {
  /** Node name. */
  readonly name: string;
  /** Gossip address. */
  readonly address: Address;
  /** Its transport (pause-aware clock, counters). */
  readonly transport: MemoryTransport;
  /** The engine. */
  readonly ml: Memberlist;
  /** Events in order. */
  readonly events: RecordedEvent[];
  /** User messages received, in order. */
  readonly messages: Uint8Array[];
}

/** N engines on one in-memory network and virtual clock. */
export class TestCluster {
  /** The clock of the network and every node. */
  readonly clock: VirtualClock = new VirtualClock(0);
  /** The network. */
  readonly net: MemoryNetwork;
  /** Nodes by name, in creation order. */
  readonly nodes: Map<string, TestNode> = new Map();
  readonly #options: TestClusterOptions;
  readonly #config: MembershipConfig;
  #created = 0;

  /** Creates an empty cluster. */
  constructor(options: TestClusterOptions = {}) {
    this.#options = options;
    this.#config = options.config ?? lanConfig();
    this.net = new MemoryNetwork({
      clock: this.clock,
      random: new SeededRandom((options.seed ?? 1) * 7919),
      latencyMs: options.latencyMs ?? 1,
      jitterMs: options.jitterMs ?? 1,
      loss: options.loss ?? 0,
      logger: () => {},
    });
  }

  /** Virtual time now, ms since creation. */
  get now(): number {
    return this.clock.now();
  }

  /** Creates a node (not started) at the next address `10.0.x.y:7946`. */
  add(name: string, opts: TestNodeOptions = {}): TestNode {
    const i = ++this.#created;
    const address = opts.address ?? { host: `10.0.${i >> 8}.${i & 255}`, port: 7946 };
    const transport = this.net.attach(address);
    const events: RecordedEvent[] = [];
    const messages: Uint8Array[] = [];
    const record = (type: RecordedEvent["type"]) => (member: MemberSnapshot) =>
      events.push({ at: this.clock.now(), type, member });
    const meta = opts.meta ?? new Uint8Array(0);
    const ml = new Memberlist({
      name,
      transport,
      config: { ...this.#config, ...opts.config },
      clock: transport.clock,
      random: new SeededRandom((this.#options.seed ?? 1) * 1_000_003 + i),
      logger: this.#options.logger,
      seeds: (opts.seeds ?? []).map((s) => this.node(s).address),
      delegate: {
        nodeMeta: () => meta,
        notifyMessage: (m) => void messages.push(m.slice()),
        ...opts.delegate,
      },
      events: { onJoin: record("join"), onLeave: record("leave"), onUpdate: record("update") },
      ...opts.options,
    });
    const node = { name, address, transport, ml, events, messages };
    this.nodes.set(name, node);
    return node;
  }

  /** Creates and starts nodes; every one gets the same options. */
  async start(names: string[], opts: TestNodeOptions = {}): Promise<TestNode[]> {
    const created = names.map((name) => this.add(name, opts));
    for (const node of created) await node.ml.start();
    return created;
  }

  /** The node called `name`; throws a `RangeError` when there is none. */
  node(name: string): TestNode {
    const node = this.nodes.get(name);
    if (!node) throw new RangeError(`Cannot find test node: received ${name}`);
    return node;
  }

  /** Runs the virtual clock for `ms`, settling promises every `stepMs`. */
  async run(ms: number, stepMs = 1): Promise<void> {
    await runFor(this.clock, ms, stepMs);
  }

  /**
   * Runs until `predicate` holds (checked every `checkEveryMs`) or `maxMs` passed. Resolves
   * with the time it took, or `undefined` when it never held.
   */
  async until(
    predicate: () => boolean,
    maxMs: number,
    checkEveryMs = 10,
    stepMs = 1,
  ): Promise<number | undefined> {
    const start = this.clock.now();
    for (;;) {
      if (predicate()) return this.clock.now() - start;
      if (this.clock.now() - start >= maxMs) return undefined;
      await this.run(checkEveryMs, stepMs);
    }
  }

  /** What `observer` knows of `subject` (any state), if anything. */
  view(observer: string, subject: string): MemberSnapshot | undefined {
    return this.node(observer).ml.member(subject);
  }

  /**
   * Whether every running observer (default: all not shut down) sees every subject (default:
   * all nodes) in `state`. An observer's view of itself counts too.
   */
  allSee(
    state: MemberStateName,
    subjects: string[] = [...this.nodes.keys()],
    observers: string[] = this.running(),
  ): boolean {
    return observers.every((o) => subjects.every((s) => this.view(o, s)?.state === state));
  }

  /** Whether every observer sees `subject` dead or left, or no longer knows it (reaped). */
  allSeeGone(subject: string, observers: string[]): boolean {
    return observers.every((o) => {
      const v = this.view(o, subject);
      return v === undefined || v.state === "dead" || v.state === "left";
    });
  }

  /** Names of nodes whose transport is still attached (not killed or shut down). */
  running(): string[] {
    return [...this.nodes.values()].filter((n) => !n.transport.closed).map((n) => n.name);
  }

  /** Shuts every engine down and closes the network. */
  async close(): Promise<void> {
    for (const node of this.nodes.values()) await node.ml.shutdown();
    await this.net.close();
  }
}
