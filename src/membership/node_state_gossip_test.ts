// Wires MemberTable, BroadcastQueue and Awareness together the way the protocol engine will
// (minus sockets and the codec), to check that the effects are enough to drive a cluster.
import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { SeededRandom } from "../util/random.ts";
import { Awareness } from "./awareness.ts";
import { BroadcastQueue } from "./broadcast_queue.ts";
import { buildVsn, lanConfig } from "./config.ts";
import { type GossipMessage, type MembershipEffect, MemberTable, NodeState } from "./node_state.ts";

const config = lanConfig();

class SimNode {
  readonly table: MemberTable;
  readonly queue: BroadcastQueue;
  readonly awareness = new Awareness(config.awarenessMaxMultiplier);
  crashed = false;

  constructor(readonly name: string, readonly sim: Sim) {
    this.table = new MemberTable({
      localName: name,
      config,
      clock: sim.clock,
      random: new SeededRandom(name.charCodeAt(0)),
      onEffects: (e) => this.apply(e),
    });
    this.queue = new BroadcastQueue({
      numNodes: () => this.table.numNodes,
      retransmitMult: config.retransmitMult,
    });
  }

  apply(effects: MembershipEffect[]): void {
    for (const e of effects) {
      if (e.type === "broadcast") {
        this.queue.queue({ message: this.sim.encode(e.message), name: e.name, finished: e.notify });
      } else if (e.type === "refute") {
        this.awareness.applyDelta(1);
      }
    }
  }

  receive(bytes: Uint8Array): void {
    if (this.crashed) return;
    const m = this.sim.decode(bytes);
    if (m.type === "alive") this.apply(this.table.aliveNode(m.body));
    else if (m.type === "suspect") this.apply(this.table.suspectNode(m.body));
    else this.apply(this.table.deadNode(m.body));
  }

  gossip(): void {
    if (this.crashed) return;
    for (const target of this.table.gossipTargets(config.gossipNodes)) {
      const msgs = this.queue.getBroadcasts(2, config.udpBufferSize - 2);
      if (msgs.length === 0) return;
      for (const m of msgs) this.sim.nodes.get(target.name)!.receive(m);
    }
  }
}

class Sim {
  readonly clock = new VirtualClock(0);
  readonly nodes = new Map<string, SimNode>();
  // Stand-in codec: each broadcast gets a unique byte array of a plausible size.
  readonly #wire = new Map<Uint8Array, GossipMessage>();

  constructor(names: string[]) {
    for (const [i, name] of names.entries()) {
      const node = new SimNode(name, this);
      this.nodes.set(name, node);
      node.apply(node.table.setAlive({
        addr: Uint8Array.of(10, 0, 0, i + 1),
        port: 7946,
        meta: new Uint8Array(),
        vsn: buildVsn(config),
      }));
    }
    // Full mesh join: everyone merges everyone's push/pull state.
    for (const a of this.nodes.values()) {
      for (const b of this.nodes.values()) {
        if (a !== b) a.apply(a.table.mergeState(b.table.localState()));
      }
    }
    const tick = () => {
      for (const n of this.nodes.values()) n.gossip();
      this.clock.setTimeout(tick, config.gossipInterval);
    };
    this.clock.setTimeout(tick, config.gossipInterval);
  }

  encode(m: GossipMessage): Uint8Array {
    const bytes = new Uint8Array(m.type === "alive" ? 62 : 40);
    this.#wire.set(bytes, m);
    return bytes;
  }

  decode(bytes: Uint8Array): GossipMessage {
    return this.#wire.get(bytes)!;
  }

  node(name: string): SimNode {
    return this.nodes.get(name)!;
  }

  stateOf(observer: string, subject: string): NodeState | undefined {
    return this.node(observer).table.get(subject)?.state;
  }
}

Deno.test("MemberTable cluster: a crashed member is confirmed by peers and declared dead everywhere", () => {
  const sim = new Sim(["a", "b", "c", "d"]);
  sim.clock.advance(5_000); // let the join gossip drain
  const d = sim.node("d");
  d.crashed = true;
  const inc = sim.node("a").table.get("d")!.incarnation;
  // a, b and c each fail a probe of d, one second apart (suspects are probed too, and each
  // failure is an accusation from the prober: the independent confirmations Lifeguard counts).
  for (const [i, name] of ["a", "b", "c"].entries()) {
    sim.clock.setTimeout(() => {
      const n = sim.node(name);
      n.apply(n.table.suspectNode({ incarnation: inc, node: "d", from: name }));
    }, i * 1_000);
  }
  const start = sim.clock.now();
  // n = 4: k = 2, min 4 s, max 24 s. Two independent confirmations bring it down to 4 s.
  sim.clock.advance(3_999);
  assert.equal(sim.stateOf("a", "d"), NodeState.Suspect);
  sim.clock.advance(1);
  assert.equal(sim.stateOf("a", "d"), NodeState.Dead, "a: exactly min after its suspicion began");
  sim.clock.advance(1_400);
  for (const observer of ["a", "b", "c"]) {
    assert.equal(sim.stateOf(observer, "d"), NodeState.Dead, `${observer} sees d dead`);
  }
  assert.ok(sim.clock.now() - start < 24_000);
});

Deno.test("MemberTable cluster: a falsely suspected member refutes and everyone sees it alive", () => {
  const sim = new Sim(["a", "b", "c", "d"]);
  sim.clock.advance(5_000);
  const a = sim.node("a");
  a.apply(a.table.suspectNode({ incarnation: 1, node: "b", from: "a" }));
  sim.clock.advance(2_000);
  for (const observer of ["a", "c", "d"]) {
    const m = sim.node(observer).table.get("b")!;
    assert.deepEqual([m.state, m.incarnation], [NodeState.Alive, 2], `${observer} sees b alive`);
  }
  assert.equal(sim.node("b").awareness.score, 1);
  sim.clock.advance(60_000);
  assert.equal(sim.stateOf("a", "b"), NodeState.Alive, "the cancelled suspicion never fires");
});

Deno.test("MemberTable cluster: leave spreads as 'left' and the leave broadcast finishes", () => {
  const sim = new Sim(["a", "b", "c"]);
  sim.clock.advance(5_000);
  let finished = false;
  const c = sim.node("c");
  c.apply(c.table.leave(() => finished = true));
  sim.clock.advance(5_000);
  assert.equal(finished, true);
  assert.equal(sim.stateOf("a", "c"), NodeState.Left);
  assert.equal(sim.stateOf("b", "c"), NodeState.Left);
});
