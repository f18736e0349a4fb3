/**
 * Test support for multi-process clusters: starts N nodes with the README's command joined
 * through `PEER`, reads each node's view from `/cluster/members`, and waits for views to match.
 *
 * @module
 */

import { type MembershipConfig, suspicionBounds } from "../src/membership/mod.ts";
import { freePort, NodeProcess, waitFor } from "./node_process.ts";

/** A member as `/cluster/members` reports it. */
export interface ClusterMember {
  name: string;
  addr: string;
  port: number;
  http_port: number;
  state: "alive" | "suspect" | "dead" | "left";
  incarnation: number;
  meta: Record<string, unknown>;
}

/** Reads a node's view of the cluster (with its `AUTH_TOKEN`, when it has one). */
export async function clusterView(node: NodeProcess): Promise<ClusterMember[]> {
  const token = node.env.AUTH_TOKEN;
  const res = await fetch(node.url("/cluster/members"), {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!res.ok) throw new Error(`GET /cluster/members: ${res.status}`);
  return await res.json();
}

/** The state `node` sees for member `name` (undefined if unknown). */
export async function stateOf(node: NodeProcess, name: string): Promise<string | undefined> {
  return (await clusterView(node)).find((m) => m.name === name)?.state;
}

/**
 * Gossip timings for test clusters: memberlist's local profile with a faster probe, so deaths
 * are seen within about a second and tests stay short.
 */
export const FAST_GOSSIP: Readonly<Record<string, string>> = {
  GOSSIP_PROFILE: "local",
  PROBE_INTERVAL: "400ms",
  PROBE_TIMEOUT: "150ms",
};

/** Env of node `i` of a cluster: its own ports, a stable name, and the seed. */
export function clusterEnv(
  prefix: string,
  i: number,
  seedPort: number | undefined,
  extra: Record<string, string>,
): Record<string, string> {
  return {
    NODE_NAME: `${prefix}-${i}`,
    HTTP_PORT: String(freePort()),
    PORT: String(seedPort !== undefined && i === 0 ? seedPort : freePort()),
    ...(seedPort !== undefined && i > 0 ? { PEER: `127.0.0.1:${seedPort}` } : {}),
    ...extra,
  };
}

/**
 * Starts `n` nodes; node 0 is the seed the others join through `PEER`. `options.cpus` pins every
 * node to those cores (`taskset -c`, benchmarks).
 */
export async function startCluster(
  prefix: string,
  n: number,
  extra: Record<string, string> = {},
  options: { cpus?: string } = {},
): Promise<NodeProcess[]> {
  const seedPort = freePort();
  const nodes = [await NodeProcess.start(clusterEnv(prefix, 0, seedPort, extra), options)];
  const rest = await Promise.all(
    Array.from(
      { length: n - 1 },
      (_, i) => NodeProcess.start(clusterEnv(prefix, i + 1, seedPort, extra), options),
    ),
  );
  return [...nodes, ...rest];
}

/** Waits until every node in `observers` sees `name` in `state`; returns the elapsed ms. */
export async function waitForState(
  observers: NodeProcess[],
  name: string,
  state: string,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  await waitFor(
    `${name} ${state} on ${observers.length} nodes`,
    async () => {
      const states = await Promise.all(observers.map((o) => stateOf(o, name)));
      return states.every((s) => s === state) || undefined;
    },
    timeoutMs,
    50,
  );
  return Date.now() - started;
}

/**
 * Waits until every node sees every node alive. Two nodes that joined the seed at the same moment
 * may learn of each other only at the next push-pull (as in memberlist), so one node's view is not
 * enough.
 */
export async function waitAllAlive(nodes: NodeProcess[], timeoutMs = 20_000): Promise<void> {
  await waitFor(
    `${nodes.length} alive in every view`,
    async () => {
      const views = await Promise.all(nodes.map(clusterView));
      return views.every((v) => v.filter((m) => m.state === "alive").length === nodes.length) ||
        undefined;
    },
    timeoutMs,
    50,
  );
}

/**
 * Upper bound on kill → dead on every node for a cluster of `n` running `config`: the victim is
 * probed within two rounds of the probe list (n - 1 members, reshuffled at wrap), the probe and
 * its indirect checks time out, the suspicion runs its longest timeout (no confirmations), and
 * the dead message is gossiped (a few gossip intervals). Plus 2 s for scheduling on 2 cores.
 */
export function deadBound(config: MembershipConfig, n: number): number {
  const { max } = suspicionBounds(config, n);
  return 2 * (n - 1) * config.probeInterval + config.probeInterval + max +
    10 * config.gossipInterval + 2000;
}
