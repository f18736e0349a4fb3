import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { SeededRandom } from "../util/random.ts";
import { buildVsn, lanConfig, type MembershipConfig } from "./config.ts";
import {
  type AliveInput,
  isGossipTarget,
  isReapable,
  type MembershipEffect,
  MemberTable,
  type MemberTableOptions,
  NodeState,
} from "./node_state.ts";

const VSN = buildVsn(lanConfig());
const ip = (last: number) => Uint8Array.of(10, 0, 0, last);

function setup(
  config: Partial<MembershipConfig> = {},
  options: Partial<MemberTableOptions> = {},
) {
  const clock = new VirtualClock(1_000_000);
  const async: MembershipEffect[][] = [];
  const table = new MemberTable({
    localName: "self",
    config: lanConfig(config),
    clock,
    random: new SeededRandom(3),
    onEffects: (e) => async.push(e),
    ...options,
  });
  table.setAlive({ addr: ip(1), port: 7946, meta: new Uint8Array(), vsn: VSN });
  return { clock, table, async };
}

function alive(node: string, incarnation: number, extra: Partial<AliveInput> = {}): AliveInput {
  const last = Number(node.replace(/\D/g, "")) || 99;
  return {
    incarnation,
    node,
    addr: ip(last),
    port: 7946,
    meta: new Uint8Array(),
    vsn: VSN,
    ...extra,
  };
}

/** Adds alive members n1..nCount. */
function addMembers(table: MemberTable, count: number): void {
  for (let i = 1; i <= count; i++) table.aliveNode(alive(`n${i + 1}`, 1));
}

const types = (effects: MembershipEffect[]) => effects.map((e) => e.type);
function broadcasts(effects: MembershipEffect[]) {
  return effects.flatMap((e) =>
    e.type === "broadcast" ? [{ name: e.name, type: e.message.type, body: e.message.body }] : []
  );
}

Deno.test("MemberTable.setAlive() announces us with incarnation 1 and a join", () => {
  const clock = new VirtualClock(5);
  const table = new MemberTable({
    localName: "self",
    config: lanConfig(),
    clock,
    random: new SeededRandom(1),
    onEffects: () => {},
  });
  const effects = table.setAlive({ addr: ip(1), port: 7946, meta: Uint8Array.of(7), vsn: VSN });
  assert.deepEqual(types(effects), ["broadcast", "join"]);
  assert.deepEqual(broadcasts(effects)[0].body, {
    incarnation: 1,
    node: "self",
    addr: ip(1),
    port: 7946,
    meta: Uint8Array.of(7),
    vsn: VSN,
  });
  const me = table.get("self")!;
  assert.equal(me.state, NodeState.Alive);
  assert.equal(me.incarnation, 1);
  assert.equal(me.stateChange, 5);
  assert.equal(table.incarnation, 1);
  assert.equal(table.numNodes, 1);
  assert.throws(
    () => table.setAlive({ addr: ip(1), port: 1, meta: new Uint8Array(513), vsn: VSN }),
    RangeError,
  );
});

Deno.test("MemberTable.aliveNode() adds a new member with a broadcast and a join", () => {
  const { table, clock } = setup();
  const effects = table.aliveNode(alive("n2", 1));
  assert.deepEqual(types(effects), ["broadcast", "join"]);
  assert.equal(broadcasts(effects)[0].name, "n2");
  const m = table.get("n2")!;
  assert.deepEqual([m.state, m.incarnation, m.stateChange], [NodeState.Alive, 1, clock.now()]);
  assert.deepEqual(m.vsn, VSN);
  assert.equal(table.numNodes, 2);
});

Deno.test("MemberTable.aliveNode() ignores stale and equal incarnations about others", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 5));
  assert.deepEqual(table.aliveNode(alive("n2", 5, { meta: Uint8Array.of(1) })), []);
  assert.deepEqual(table.aliveNode(alive("n2", 4)), []);
  assert.equal(table.get("n2")!.meta.length, 0);
});

Deno.test("MemberTable.aliveNode() emits update when a newer alive changes meta", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 1));
  const effects = table.aliveNode(alive("n2", 2, { meta: Uint8Array.of(9) }));
  assert.deepEqual(types(effects), ["broadcast", "update"]);
  assert.deepEqual(table.get("n2")!.meta, Uint8Array.of(9));
  // Same meta, newer incarnation: re-broadcast only.
  assert.deepEqual(types(table.aliveNode(alive("n2", 3, { meta: Uint8Array.of(9) }))), [
    "broadcast",
  ]);
});

Deno.test("MemberTable.aliveNode() drops bad version vectors", () => {
  const { table } = setup();
  for (const vsn of [[0, 5, 2], [1, 0, 2], [3, 2, 2, 0, 0, 0]]) {
    assert.deepEqual(table.aliveNode(alive("n2", 1, { vsn: Uint8Array.from(vsn) })), []);
  }
  assert.equal(table.get("n2"), undefined);
  // Short but valid vectors are accepted; unknown versions stay zero.
  table.aliveNode(alive("n2", 1, { vsn: Uint8Array.of(1, 5, 2) }));
  assert.deepEqual(table.get("n2")!.vsn, new Uint8Array(6));
});

Deno.test("MemberTable.aliveNode() refuses a conflicting address for a live member", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 1));
  for (const other of [alive("n2", 9, { addr: ip(50) }), alive("n2", 9, { port: 8000 })]) {
    const effects = table.aliveNode(other);
    assert.deepEqual(types(effects), ["conflict"]);
    const c = effects[0] as Extract<MembershipEffect, { type: "conflict" }>;
    assert.deepEqual(c.existing.addr, ip(2));
    assert.equal(c.other, other);
  }
  // The 16-byte form of the same IPv4 address is a different address, byte-wise.
  const mapped = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 2);
  assert.deepEqual(types(table.aliveNode(alive("n2", 9, { addr: mapped }))), ["conflict"]);
  assert.deepEqual(table.get("n2")!.addr, ip(2));
  assert.equal(table.get("n2")!.incarnation, 1);
});

Deno.test("MemberTable.aliveNode() lets a left member's name move, whatever the incarnation", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 5));
  table.deadNode({ incarnation: 5, node: "n2", from: "n2" });
  const effects = table.aliveNode(alive("n2", 1, { addr: ip(60) }));
  assert.deepEqual(types(effects), ["broadcast", "join"]);
  const m = table.get("n2")!;
  assert.deepEqual([m.state, m.incarnation, m.addr], [NodeState.Alive, 1, ip(60)]);
});

Deno.test("MemberTable.aliveNode() reclaims a dead name only after deadNodeReclaimTime", () => {
  for (const reclaim of [0, 10_000]) {
    const { table, clock } = setup({ deadNodeReclaimTime: reclaim });
    table.aliveNode(alive("n2", 5));
    table.deadNode({ incarnation: 5, node: "n2", from: "x" });
    clock.advance(10_000);
    assert.deepEqual(types(table.aliveNode(alive("n2", 6, { addr: ip(60) }))), ["conflict"]);
    clock.advance(1);
    const expected = reclaim > 0 ? ["broadcast", "join"] : ["conflict"];
    assert.deepEqual(types(table.aliveNode(alive("n2", 1, { addr: ip(60) }))), expected);
  }
});

Deno.test("MemberTable.aliveNode() about us refutes newer or different claims", () => {
  const { table } = setup();
  // Same incarnation, same meta and vsn: nothing to do.
  assert.deepEqual(table.aliveNode(alive("self", 1, { addr: ip(1) })), []);
  // Older: ignored.
  table.nextIncarnation();
  table.nextIncarnation(); // counter 3, entry still at 1
  // Same incarnation but different meta (a restarted us with another config): refute.
  let effects = table.aliveNode(alive("self", 1, { addr: ip(1), meta: Uint8Array.of(1) }));
  assert.deepEqual(types(effects), ["refute", "broadcast"]);
  assert.deepEqual(effects[0], { type: "refute", incarnation: 4, accusedIncarnation: 1 });
  assert.equal(table.get("self")!.incarnation, 4);
  assert.deepEqual(table.get("self")!.meta.length, 0, "our meta is kept");
  // A newer incarnation about us (others remember a previous life): jump above it.
  effects = table.aliveNode(alive("self", 40, { addr: ip(1) }));
  assert.deepEqual(effects[0], { type: "refute", incarnation: 41, accusedIncarnation: 40 });
  const refutation = broadcasts(effects)[0];
  assert.equal(refutation.name, "self");
  assert.deepEqual(refutation.body, {
    incarnation: 41,
    node: "self",
    addr: ip(1),
    port: 7946,
    meta: new Uint8Array(),
    vsn: VSN,
  });
  assert.equal(table.incarnation, 41);
  assert.deepEqual(table.aliveNode(alive("self", 3, { addr: ip(1) })), []);
});

Deno.test("MemberTable.suspectNode() marks an alive member suspect and starts a timer", () => {
  const { table, clock } = setup();
  addMembers(table, 9); // n = 10
  const effects = table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  assert.deepEqual(types(effects), ["broadcast", "suspicion-started"]);
  assert.deepEqual(broadcasts(effects)[0], {
    name: "n2",
    type: "suspect",
    body: { incarnation: 1, node: "n2", from: "n3" },
  });
  assert.deepEqual(effects[1], {
    type: "suspicion-started",
    node: "n2",
    k: 2,
    min: 4_000,
    max: 24_000,
  });
  const m = table.get("n2")!;
  assert.deepEqual([m.state, m.stateChange], [NodeState.Suspect, clock.now()]);
  assert.equal(table.suspicion("n2")!.deadline, clock.now() + 24_000);
});

Deno.test("MemberTable.suspectNode() ignores unknown members, stale incarnations and non-alive members", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 5));
  assert.deepEqual(table.suspectNode({ incarnation: 1, node: "ghost", from: "n3" }), []);
  assert.deepEqual(table.suspectNode({ incarnation: 4, node: "n2", from: "n3" }), []);
  table.deadNode({ incarnation: 5, node: "n2", from: "n3" });
  assert.deepEqual(table.suspectNode({ incarnation: 5, node: "n2", from: "n3" }), []);
  assert.equal(table.get("n2")!.state, NodeState.Dead);
});

Deno.test("MemberTable.suspectNode() accepts a newer incarnation and adopts it", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 5));
  table.suspectNode({ incarnation: 7, node: "n2", from: "n3" });
  assert.equal(table.get("n2")!.incarnation, 7);
});

Deno.test("MemberTable.suspectNode() of ourselves refutes above the accusation", () => {
  const { table } = setup();
  const effects = table.suspectNode({ incarnation: 1, node: "self", from: "n2" });
  assert.deepEqual(types(effects), ["refute", "broadcast"]);
  assert.deepEqual(effects[0], { type: "refute", incarnation: 2, accusedIncarnation: 1 });
  const jump = table.suspectNode({ incarnation: 10, node: "self", from: "n2" });
  assert.deepEqual(jump[0], { type: "refute", incarnation: 11, accusedIncarnation: 10 });
  assert.equal(table.get("self")!.state, NodeState.Alive);
  assert.equal(table.suspicion("self"), undefined);
  // The old accusation is now stale.
  assert.deepEqual(table.suspectNode({ incarnation: 10, node: "self", from: "n2" }), []);
});

Deno.test("MemberTable re-gossips only new confirmations of a running suspicion", () => {
  const { table } = setup();
  addMembers(table, 9);
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  assert.deepEqual(table.suspectNode({ incarnation: 1, node: "n2", from: "n3" }), []);
  assert.deepEqual(types(table.suspectNode({ incarnation: 1, node: "n2", from: "n4" })), [
    "broadcast",
  ]);
  assert.deepEqual(table.suspectNode({ incarnation: 1, node: "n2", from: "n4" }), []);
  assert.deepEqual(types(table.suspectNode({ incarnation: 1, node: "n2", from: "n5" })), [
    "broadcast",
  ]);
  // k = 2 reached: further accusers are not news.
  assert.deepEqual(table.suspectNode({ incarnation: 1, node: "n2", from: "n6" }), []);
  assert.equal(table.suspicion("n2")!.confirmations, 2);
});

Deno.test("MemberTable declares a suspect dead when its (confirmed) timer expires", () => {
  const { table, clock, async } = setup();
  addMembers(table, 9); // n = 10: min 4 s, max 24 s, k 2
  const start = clock.now();
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  clock.advance(1_000);
  table.suspectNode({ incarnation: 1, node: "n2", from: "n4" }); // total 11,381 ms
  clock.advance(1_000);
  table.suspectNode({ incarnation: 1, node: "n2", from: "n5" }); // total 4,000 ms
  clock.advance(1_999);
  assert.equal(async.length, 0);
  clock.advance(1);
  assert.equal(clock.now(), start + 4_000);
  assert.equal(async.length, 1);
  assert.deepEqual(types(async[0]), ["suspicion-expired", "broadcast", "leave"]);
  assert.deepEqual(async[0][0], {
    type: "suspicion-expired",
    node: "n2",
    confirmations: 2,
    degraded: false,
  });
  assert.deepEqual(broadcasts(async[0])[0].body, { incarnation: 1, node: "n2", from: "self" });
  const m = table.get("n2")!;
  assert.deepEqual([m.state, m.stateChange], [NodeState.Dead, start + 4_000]);
  assert.equal(table.suspicion("n2"), undefined);
});

Deno.test("MemberTable suspicion without confirmations runs to max and is flagged degraded", () => {
  const { table, clock, async } = setup();
  addMembers(table, 9);
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  clock.advance(23_999);
  assert.equal(async.length, 0);
  clock.advance(1);
  assert.equal((async[0][0] as { degraded: boolean }).degraded, true);
});

Deno.test("MemberTable suspicion in a tiny cluster (k = 0) runs for min", () => {
  const { table, clock, async } = setup();
  addMembers(table, 2); // n = 3
  const effects = table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  assert.deepEqual(effects[1], {
    type: "suspicion-started",
    node: "n2",
    k: 0,
    min: 4_000,
    max: 24_000,
  });
  assert.deepEqual(table.suspectNode({ incarnation: 1, node: "n2", from: "self" }), []);
  clock.advance(4_000);
  assert.deepEqual(async[0][0], {
    type: "suspicion-expired",
    node: "n2",
    confirmations: 0,
    degraded: false,
  });
});

Deno.test("MemberTable: a refuting alive cancels the suspicion", () => {
  const { table, clock, async } = setup();
  addMembers(table, 9);
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  // Equal incarnation does not refute.
  assert.deepEqual(table.aliveNode(alive("n2", 1)), []);
  const effects = table.aliveNode(alive("n2", 2));
  assert.deepEqual(types(effects), ["broadcast"], "suspect → alive is not a join");
  assert.equal(table.suspicion("n2"), undefined);
  clock.advance(100_000);
  assert.deepEqual(async, []);
  assert.equal(table.get("n2")!.state, NodeState.Alive);
  assert.equal(clock.pending, 0);
});

Deno.test("MemberTable.deadNode() marks dead, or left when the member announced it", () => {
  const { table, clock } = setup();
  table.aliveNode(alive("n2", 1));
  table.aliveNode(alive("n3", 1));
  clock.advance(10);
  let effects = table.deadNode({ incarnation: 1, node: "n2", from: "n3" });
  assert.deepEqual(types(effects), ["broadcast", "leave"]);
  assert.deepEqual(broadcasts(effects)[0].body, { incarnation: 1, node: "n2", from: "n3" });
  assert.equal(table.get("n2")!.state, NodeState.Dead);
  assert.equal(table.get("n2")!.stateChange, clock.now());
  effects = table.deadNode({ incarnation: 1, node: "n3", from: "n3" });
  assert.deepEqual(types(effects), ["broadcast", "leave"]);
  assert.equal(table.get("n3")!.state, NodeState.Left);
  // Already dead or left: ignored, even with a newer incarnation.
  assert.deepEqual(table.deadNode({ incarnation: 9, node: "n2", from: "n2" }), []);
  assert.equal(table.get("n2")!.state, NodeState.Dead);
});

Deno.test("MemberTable.deadNode() ignores unknown members and stale incarnations", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 5));
  assert.deepEqual(table.deadNode({ incarnation: 1, node: "ghost", from: "x" }), []);
  assert.deepEqual(table.deadNode({ incarnation: 4, node: "n2", from: "x" }), []);
  assert.equal(table.get("n2")!.state, NodeState.Alive);
  // Equal incarnation is accepted.
  assert.deepEqual(types(table.deadNode({ incarnation: 5, node: "n2", from: "x" })), [
    "broadcast",
    "leave",
  ]);
});

Deno.test("MemberTable.deadNode() cancels a suspicion", () => {
  const { table, clock, async } = setup();
  addMembers(table, 9);
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  table.deadNode({ incarnation: 1, node: "n2", from: "n4" });
  clock.advance(100_000);
  assert.deepEqual(async, []);
});

Deno.test("MemberTable.deadNode() about us refutes unless we are leaving", () => {
  const { table } = setup();
  const effects = table.deadNode({ incarnation: 3, node: "self", from: "n2" });
  assert.deepEqual(effects[0], { type: "refute", incarnation: 4, accusedIncarnation: 3 });
  assert.equal(table.get("self")!.state, NodeState.Alive);
  // Even a forged "left" about us is refuted while we are not leaving.
  const forged = table.deadNode({ incarnation: 4, node: "self", from: "self" });
  assert.deepEqual(types(forged), ["refute", "broadcast"]);
});

Deno.test("MemberTable.leave() broadcasts our death with the notify callback and marks us left", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 1));
  assert.equal(table.anyAlive(), true);
  const notify = () => {};
  const effects = table.leave(notify);
  assert.deepEqual(types(effects), ["broadcast", "leave"]);
  const b = effects[0] as Extract<MembershipEffect, { type: "broadcast" }>;
  assert.equal(b.notify, notify);
  assert.deepEqual(b.message, {
    type: "dead",
    body: { incarnation: 1, node: "self", from: "self" },
  });
  assert.equal(table.get("self")!.state, NodeState.Left);
  assert.equal(table.hasLeft, true);
  assert.deepEqual(table.leave(), [], "only once");
  // Alive messages about us can no longer bring us back.
  assert.deepEqual(table.aliveNode(alive("self", 99, { addr: ip(1) })), []);
  assert.equal(table.get("self")!.state, NodeState.Left);
});

Deno.test("MemberTable.updateNode() re-announces us with new meta and the notify callback", () => {
  const { table } = setup();
  const notify = () => {};
  const effects = table.updateNode(Uint8Array.of(4, 2), notify);
  assert.deepEqual(types(effects), ["broadcast", "update"]);
  const b = effects[0] as Extract<MembershipEffect, { type: "broadcast" }>;
  assert.equal(b.notify, notify);
  assert.equal((b.message.body as AliveInput).incarnation, 2);
  assert.deepEqual(table.get("self")!.meta, Uint8Array.of(4, 2));
  assert.equal(table.get("self")!.incarnation, 2);
});

Deno.test("MemberTable: a dead member coming back with a newer incarnation joins again", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 1));
  table.deadNode({ incarnation: 1, node: "n2", from: "n3" });
  assert.deepEqual(table.aliveNode(alive("n2", 1)), []);
  assert.deepEqual(types(table.aliveNode(alive("n2", 2))), ["broadcast", "join"]);
});

Deno.test("MemberTable.mergeState() applies alive, left, and downgrades dead to suspect", () => {
  const { table } = setup();
  addMembers(table, 9);
  const rec = (name: string, state: number, incarnation = 1) => ({
    name,
    addr: ip(Number(name.slice(1))),
    port: 7946,
    meta: new Uint8Array(),
    incarnation,
    state,
    vsn: VSN,
  });
  const effects = table.mergeState([
    rec("n20", NodeState.Alive),
    rec("n2", NodeState.Dead),
    rec("n3", NodeState.Suspect),
    rec("n4", NodeState.Left),
    rec("n5", 7),
  ]);
  assert.equal(table.get("n20")!.state, NodeState.Alive);
  assert.equal(table.get("n2")!.state, NodeState.Suspect, "remote dead is only a suspicion here");
  assert.equal(table.get("n3")!.state, NodeState.Suspect);
  assert.equal(table.get("n4")!.state, NodeState.Left);
  assert.equal(table.get("n5")!.state, NodeState.Alive, "unknown states are ignored");
  const suspects = broadcasts(effects).filter((b) => b.type === "suspect");
  assert.deepEqual(suspects.map((s) => s.body), [
    { incarnation: 1, node: "n2", from: "self" },
    { incarnation: 1, node: "n3", from: "self" },
  ]);
  assert.deepEqual(
    broadcasts(effects).find((b) => b.type === "dead")!.body,
    { incarnation: 1, node: "n4", from: "n4" },
  );
  // A push/pull "suspect" about ourselves is refuted.
  assert.deepEqual(types(table.mergeState([rec("self", NodeState.Dead, 1)])), [
    "refute",
    "broadcast",
  ]);
});

Deno.test("MemberTable.localState() lists every member, dead and left included", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 1));
  table.aliveNode(alive("n3", 1));
  table.deadNode({ incarnation: 1, node: "n3", from: "n3" });
  const records = table.localState().sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(records.map((r) => [r.name, r.state, r.vsn.length]), [
    ["n2", NodeState.Alive, 6],
    ["n3", NodeState.Left, 6],
    ["self", NodeState.Alive, 6],
  ]);
});

Deno.test("MemberTable.verifyProtocol() enforces the common version range", () => {
  const { table } = setup();
  const rec = (name: string, vsn: number[], state: number = NodeState.Alive) => ({
    name,
    addr: ip(2),
    port: 7946,
    meta: new Uint8Array(),
    incarnation: 1,
    state,
    vsn: Uint8Array.from(vsn),
  });
  table.verifyProtocol([rec("n2", [1, 5, 2, 0, 0, 0]), rec("n3", [1, 5, 5, 0, 0, 0])]);
  assert.throws(
    () => table.verifyProtocol([rec("n2", [3, 5, 3, 0, 0, 0])]),
    /node 'self' protocol version \(2\) is incompatible: \[3, 5\]/,
  );
  assert.throws(
    () =>
      table.verifyProtocol([rec("n2", [1, 5, 2, 0, 0, 0]), rec("n3", [1, 5, 2], NodeState.Dead)]),
    /node 'n3' protocol version \(0\) is incompatible: \[1, 5\]/,
  );
  assert.throws(
    () => table.verifyProtocol([rec("n2", [1, 5, 2, 1, 2, 1])]),
    (e: unknown) =>
      e instanceof RangeError &&
      /'n2' delegate protocol version \(1\) is incompatible: \[1, 0\]/.test(e.message),
  );
});

Deno.test("MemberTable.nextProbeTarget() probes everyone but us and the dead, once per round", () => {
  const { table } = setup();
  addMembers(table, 5); // n2..n6
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  table.deadNode({ incarnation: 1, node: "n3", from: "n4" });
  for (let round = 0; round < 3; round++) {
    const seen = [0, 1, 2, 3].map(() => table.nextProbeTarget()!.name).sort();
    assert.deepEqual(seen, ["n2", "n4", "n5", "n6"], `round ${round}`);
  }
  const lonely = setup().table;
  assert.equal(lonely.nextProbeTarget(), undefined);
});

Deno.test("MemberTable reaps dead and left members after gossipToTheDeadTime, at a probe wrap", () => {
  const { table, clock } = setup({ gossipToTheDeadTime: 30_000 });
  addMembers(table, 3); // n2..n4
  table.deadNode({ incarnation: 1, node: "n2", from: "n3" });
  table.deadNode({ incarnation: 1, node: "n3", from: "n3" });
  assert.equal(table.numNodes, 4);
  clock.advance(30_000);
  assert.deepEqual(table.resetNodes(), [], "not older than gossipToTheDeadTime yet");
  clock.advance(1);
  for (let i = 0; i < 3; i++) table.nextProbeTarget();
  assert.equal(table.get("n2"), undefined);
  assert.equal(table.get("n3"), undefined);
  assert.equal(table.numNodes, 2);
  assert.deepEqual(table.all().map((m) => m.name).sort(), ["n4", "self"]);
  // Once reaped, the name is free for any address.
  assert.deepEqual(types(table.aliveNode(alive("n2", 1, { addr: ip(77) }))), ["broadcast", "join"]);
});

Deno.test("MemberTable.gossipTargets() includes recently dead members but never left ones or us", () => {
  const { table, clock } = setup({ gossipToTheDeadTime: 30_000 });
  addMembers(table, 4); // n2..n5
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  table.deadNode({ incarnation: 1, node: "n3", from: "n4" });
  table.deadNode({ incarnation: 1, node: "n4", from: "n4" });
  const names = () => table.gossipTargets(10).map((m) => m.name).sort();
  assert.deepEqual(names(), ["n2", "n3", "n5"]);
  clock.advance(30_001);
  assert.deepEqual(names(), ["n2", "n5"]);
});

Deno.test("isGossipTarget() and isReapable() follow memberlist's time bounds", () => {
  const m = (state: NodeState, stateChange: number) => ({
    name: "x",
    addr: ip(1),
    port: 1,
    meta: new Uint8Array(),
    state,
    incarnation: 1,
    stateChange,
    vsn: VSN,
  });
  assert.equal(isGossipTarget(m(NodeState.Dead, 0), 30_000, 30_000), true);
  assert.equal(isGossipTarget(m(NodeState.Dead, 0), 30_001, 30_000), false);
  assert.equal(isGossipTarget(m(NodeState.Left, 0), 0, 30_000), false);
  assert.equal(isGossipTarget(m(NodeState.Suspect, 0), 1e9, 30_000), true);
  assert.equal(isReapable(m(NodeState.Left, 0), 30_001, 30_000), true);
  assert.equal(isReapable(m(NodeState.Dead, 0), 30_000, 30_000), false);
  assert.equal(isReapable(m(NodeState.Alive, 0), 1e9, 30_000), false);
});

Deno.test("MemberTable.indirectProbeHelpers() and pushPullTarget() pick alive peers only", () => {
  const { table } = setup();
  addMembers(table, 5); // n2..n6
  table.suspectNode({ incarnation: 1, node: "n3", from: "n4" });
  table.deadNode({ incarnation: 1, node: "n4", from: "n5" });
  const helpers = table.indirectProbeHelpers(3, "n2").map((m) => m.name).sort();
  assert.deepEqual(helpers, ["n5", "n6"]);
  for (let i = 0; i < 20; i++) {
    assert.ok(["n2", "n5", "n6"].includes(table.pushPullTarget()!.name));
  }
  assert.equal(setup().table.pushPullTarget(), undefined);
});

Deno.test("MemberTable counts members like memberlist", () => {
  const { table } = setup();
  addMembers(table, 3);
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  table.deadNode({ incarnation: 1, node: "n3", from: "n4" });
  assert.equal(table.numNodes, 4, "estNumNodes includes self and the unreaped dead");
  assert.equal(table.numMembers(), 3, "NumMembers: alive and suspect, self included");
  assert.deepEqual(table.members().map((m) => m.name).sort(), ["n2", "n4", "self"]);
});

Deno.test("MemberTable honours allowAddress and acceptAlive", () => {
  const { table } = setup({}, {
    allowAddress: (addr) => addr[3] !== 66,
    acceptAlive: (a) => a.node !== "vetoed",
  });
  assert.deepEqual(table.aliveNode(alive("n66", 1)), []);
  assert.deepEqual(table.aliveNode(alive("vetoed", 1)), []);
  assert.deepEqual(table.aliveNode(alive("n2", 1, { vsn: Uint8Array.of(1, 5, 2) })), []);
  assert.deepEqual(types(table.aliveNode(alive("n2", 1))), ["broadcast", "join"]);
  // A changed address is checked too.
  table.deadNode({ incarnation: 1, node: "n2", from: "n2" });
  assert.deepEqual(table.aliveNode(alive("n2", 2, { addr: ip(66) })), []);
});

Deno.test("MemberTable copies input bytes and hands out snapshots", () => {
  const { table } = setup();
  const input = alive("n2", 1, { meta: Uint8Array.of(1, 2, 3) });
  table.aliveNode(input);
  input.meta[0] = 99;
  input.addr[3] = 99;
  const m = table.get("n2")!;
  assert.deepEqual(m.meta, Uint8Array.of(1, 2, 3));
  assert.deepEqual(m.addr, ip(2));
  table.aliveNode(alive("n2", 2, { meta: Uint8Array.of(5) }));
  assert.deepEqual(m.meta, Uint8Array.of(1, 2, 3), "an earlier snapshot does not change");
});

Deno.test("MemberTable: an alive with incarnation 0 for a stranger adds a dead placeholder (as memberlist)", () => {
  const { table } = setup();
  assert.deepEqual(table.aliveNode(alive("n2", 0)), []);
  assert.equal(table.get("n2")!.state, NodeState.Dead);
  assert.equal(table.members().length, 1);
  table.resetNodes();
  assert.equal(table.get("n2"), undefined, "reaped at the next wrap");
});

Deno.test("MemberTable.close() cancels every suspicion timer", () => {
  const { table, clock, async } = setup();
  addMembers(table, 5);
  table.suspectNode({ incarnation: 1, node: "n2", from: "n3" });
  table.suspectNode({ incarnation: 1, node: "n4", from: "n3" });
  table.close();
  clock.advance(1e6);
  assert.deepEqual(async, []);
});

Deno.test("loadConverged leaves the table as aliveNode would, with the same draws", () => {
  const peers = Array.from({ length: 40 }, (_, i) => ({
    name: `n${i + 2}`,
    addr: ip(i + 2),
    port: 7946,
  }));
  const viaAlive = setup();
  for (const p of peers) viaAlive.table.aliveNode(alive(p.name, 1, { addr: p.addr }));
  const viaLoad = setup();
  // Ourselves and an existing member are skipped, not reset.
  viaLoad.table.aliveNode(alive("n2", 1));
  viaLoad.table.loadConverged([{ name: "self", addr: ip(1), port: 7946 }, ...peers], 1, VSN);
  assert.deepEqual(viaLoad.table.all(), viaAlive.table.all());
  // Same list positions means the same random draws: the next picks agree too.
  const pick = (t: MemberTable) => t.randomMembers(5, () => false).map((m) => m.name);
  assert.deepEqual(pick(viaLoad.table), pick(viaAlive.table));
  assert.equal(viaLoad.table.numMembers(), 41);
});

Deno.test("loadConverged stops at maxMembers", () => {
  const { table } = setup({ maxMembers: 10 });
  const peers = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, addr: ip(i), port: 1 }));
  table.loadConverged(peers, 1, VSN);
  assert.equal(table.numNodes, 10);
  assert.equal(table.get("p8")?.state, NodeState.Alive);
  assert.equal(table.get("p9"), undefined);
});

Deno.test("isStaleAlive: only an alive record with nothing new about a known member", () => {
  const { table } = setup();
  table.aliveNode(alive("n2", 5));
  table.aliveNode(alive("v6", 1, { addr: new Uint8Array(16).fill(7) }));
  assert.equal(table.isStaleAlive("n2", ip(2), 7946, 5), true);
  assert.equal(table.isStaleAlive("n2", ip(2), 7946, 4), true);
  assert.equal(table.isStaleAlive("n2", ip(2), 7946, 6), false, "newer incarnation");
  assert.equal(table.isStaleAlive("n2", ip(3), 7946, 5), false, "other IPv4 address");
  assert.equal(table.isStaleAlive("n2", new Uint8Array(16), 7946, 5), false, "IPv6 address");
  assert.equal(table.isStaleAlive("n2", ip(2), 7947, 5), false, "other port");
  assert.equal(table.isStaleAlive("v6", new Uint8Array(16).fill(7), 7946, 1), true);
  assert.equal(table.isStaleAlive("v6", new Uint8Array(16).fill(8), 7946, 1), false);
  assert.equal(table.isStaleAlive("v6", ip(7), 7946, 1), false);
  assert.equal(table.isStaleAlive("self", ip(1), 7946, 1), false, "never about ourselves");
  assert.equal(table.isStaleAlive("nobody", ip(9), 7946, 1), false);
});
