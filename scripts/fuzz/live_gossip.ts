/**
 * Fuzzes a live, in-process cluster through its gossip port: real {@link CacheNode}s on
 * 127.0.0.1 (DenoTransport: UDP and TCP), hostile inputs sent from outside the cluster as raw
 * datagrams and raw TCP connections. Checked after the run: no crash (an exception would end the
 * process), no hang (the target answers `/healthz` within the deadline throughout), and no state
 * change — with a gossip key, every node keeps the same members in the same states and the same
 * store digest, and the target's counters show the inputs dropped. Without a key, gossip accepts
 * well-formed messages from anyone (by design, as memberlist), so only the store digest and the
 * real members' liveness are checked and the members the inputs added are counted.
 *
 * @module
 */

import { CacheNode } from "../../src/node/cache_node.ts";
import { hexOf, type Mutator } from "./mutator.ts";
import type { FuzzBudget, FuzzFailure, TargetReport } from "./target.ts";

/** Options of {@link fuzzLiveGossip}. */
export interface LiveGossipOptions {
  /** Inputs (mutated per send). */
  corpus: { packets: readonly Uint8Array[]; streams: readonly Uint8Array[] };
  /** Input generator. */
  mutator: Mutator;
  /** Budget of the UDP phase and of the TCP phase, each. */
  budget: FuzzBudget;
  /** `SECRET_KEY` of the cluster (base64), or undefined for a plaintext cluster. */
  secretKey?: string;
  /** Concurrent TCP connections. @default 16 */
  tcpConcurrency?: number;
}

interface MemberSnapshot {
  name: string;
  state: string;
}

function snapshot(node: CacheNode): MemberSnapshot[] {
  return node.members().map((m) => ({ name: m.name, state: m.state })).sort((a, b) =>
    a.name.localeCompare(b.name)
  );
}

async function waitUntil(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) {
      throw new Error(`Cannot start fuzz target: ${what} after ${ms} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `n` nodes joined through the first, with `keys` entries written and replicated. */
async function startCluster(n: number, secretKey: string | undefined): Promise<CacheNode[]> {
  const base = {
    bindAddr: "127.0.0.1",
    httpPort: 0,
    gossipPort: 0,
    gossipProfile: "lan" as const,
    secretKey,
  };
  const first = new CacheNode({ ...base, nodeName: "target-0" });
  await first.start();
  const seed = `127.0.0.1:${first.members()[0].port}`;
  const nodes = [first];
  for (let i = 1; i < n; i++) {
    const node = new CacheNode({ ...base, nodeName: `target-${i}`, peers: [seed] });
    await node.start();
    nodes.push(node);
  }
  await waitUntil(
    "members alive",
    () =>
      nodes.every((node) =>
        node.members().filter((m) => m.state === "alive").length === n && node.readiness().ready
      ),
    30_000,
  );
  for (let i = 0; i < 20; i++) await first.set(`fuzz-key-${i}`, `value-${i}`, { acks: "all" });
  await waitUntil(
    "digests equal",
    () => nodes.every((node) => node.stats().store.digest === first.stats().store.digest),
    30_000,
  );
  return nodes;
}

async function healthy(node: CacheNode, ms: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${node.httpAddress!.port}/healthz`, {
      signal: AbortSignal.timeout(ms),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

function membershipCounters(node: CacheNode): Record<string, unknown> {
  return structuredClone(node.stats().membership ?? {});
}

/** Sends datagrams to the target's gossip port until the budget runs out. */
async function udpPhase(target: CacheNode, options: LiveGossipOptions): Promise<TargetReport> {
  const report: TargetReport = {
    target: "live UDP",
    tried: 0,
    outcomes: {},
    crashes: [],
    hangs: [],
    ms: 0,
  };
  const port = target.members()[0].port;
  const socket = Deno.listenDatagram({ hostname: "127.0.0.1", port: 0, transport: "udp" });
  const started = performance.now();
  const { budget, mutator } = options;
  try {
    while (report.tried < budget.count && performance.now() - started < budget.ms) {
      const input = mutator.next(options.corpus.packets);
      report.tried++;
      try {
        await socket.send(input, { transport: "udp", hostname: "127.0.0.1", port });
        report.outcomes.sent = (report.outcomes.sent ?? 0) + 1;
      } catch (err) {
        const key = `send-failed ${(err as Error).name}`;
        report.outcomes[key] = (report.outcomes[key] ?? 0) + 1;
      }
      // Pace the sender so the node reads what it is sent rather than the kernel dropping it.
      if (report.tried % 50 === 0) await new Promise((r) => setTimeout(r, 1));
      if (report.tried % 1000 === 0 && !(await healthy(target, budget.inputDeadlineMs))) {
        report.hangs.push({
          index: report.tried,
          input: hexOf(input),
          error: "target stopped answering /healthz",
        });
      }
    }
  } finally {
    socket.close();
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** One TCP connection: write `input`, then read until the node closes or the deadline. */
async function oneConnection(port: number, input: Uint8Array, deadlineMs: number): Promise<string> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (err) {
    return `connect-failed ${(err as Error).name}`;
  }
  const timer = setTimeout(() => conn.close(), deadlineMs);
  try {
    await conn.write(input).catch(() => {});
    const buf = new Uint8Array(4096);
    let answered = false;
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return answered ? "answered-then-closed" : "closed-by-node";
      answered = true;
    }
  } catch (err) {
    // Our deadline closed the connection (the node was waiting for more bytes), or a reset.
    return err instanceof Deno.errors.BadResource || err instanceof Deno.errors.Interrupted
      ? "open-at-deadline"
      : `read-error ${(err as Error).name}`;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // already closed by the deadline
    }
  }
}

/** Opens connections to the target's gossip port until the budget runs out. */
async function tcpPhase(target: CacheNode, options: LiveGossipOptions): Promise<TargetReport> {
  const report: TargetReport = {
    target: "live TCP",
    tried: 0,
    outcomes: {},
    crashes: [],
    hangs: [],
    ms: 0,
  };
  const port = target.members()[0].port;
  const { budget, mutator } = options;
  const started = performance.now();
  const deadlineMs = Math.min(budget.inputDeadlineMs, 300);
  const worker = async () => {
    while (report.tried < budget.count && performance.now() - started < budget.ms) {
      const input = mutator.next(options.corpus.streams, true);
      const index = report.tried++;
      const outcome = await oneConnection(port, input, deadlineMs);
      report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
      if (index % 100 === 0 && !(await healthy(target, budget.inputDeadlineMs))) {
        report.hangs.push({
          index,
          input: hexOf(input),
          error: "target stopped answering /healthz",
        });
      }
    }
  };
  await Promise.all(Array.from({ length: options.tcpConcurrency ?? 16 }, worker));
  report.ms = Math.round(performance.now() - started);
  return report;
}

/**
 * Runs the UDP then the TCP phase against node 0 of a fresh 3-node cluster (2 nodes without a
 * key), checks the state afterwards, and closes the cluster.
 */
export async function fuzzLiveGossip(options: LiveGossipOptions): Promise<TargetReport[]> {
  const keyed = options.secretKey !== undefined;
  const nodes = await startCluster(keyed ? 3 : 2, options.secretKey);
  const target = nodes[0];
  try {
    const before = nodes.map((n) => ({ members: snapshot(n), digest: n.stats().store.digest }));
    const counters = membershipCounters(target);
    const udp = await udpPhase(target, options);
    const tcp = await tcpPhase(target, options);
    // Let the node finish what it read, then let a refuted suspicion (load) settle.
    await new Promise((r) => setTimeout(r, 1000));
    const failures: FuzzFailure[] = [];
    const realNames = nodes.map((n) => n.config.nodeName);
    nodes.forEach((node, i) => {
      const digest = node.stats().store.digest;
      if (digest !== before[i].digest) {
        failures.push({
          index: -1,
          input: "",
          error: `${node.config.nodeName}: store digest changed`,
        });
      }
      const now = snapshot(node);
      const real = now.filter((m) => realNames.includes(m.name));
      if (real.some((m) => m.state !== "alive")) {
        failures.push({
          index: -1,
          input: "",
          error: `${node.config.nodeName}: ${JSON.stringify(real)}`,
        });
      }
      if (keyed && JSON.stringify(now) !== JSON.stringify(before[i].members)) {
        failures.push({
          index: -1,
          input: "",
          error: `${node.config.nodeName}: members changed: ${JSON.stringify(now)}`,
        });
      }
    });
    const after = membershipCounters(target);
    const notes = {
      keyed,
      membersAdded: snapshot(target).length - before[0].members.length,
      membershipBefore: pick(counters),
      membershipAfter: pick(after),
    };
    const label = keyed ? "encrypted" : "plaintext";
    for (const report of [udp, tcp]) {
      report.target = `${report.target} (${label})`;
      report.notes = notes;
    }
    udp.crashes.push(...failures);
    return [udp, tcp];
  } finally {
    for (const node of nodes.reverse()) await node.close();
  }
}

function pick(counters: Record<string, unknown>): Record<string, unknown> {
  const { packetsIn, packetsDropped, dropped, streamsIn, streamErrors } = counters;
  return { packetsIn, packetsDropped, dropped, streamsIn, streamErrors };
}
