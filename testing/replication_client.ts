/**
 * Test support for replication tests: small HTTP helpers against node processes (PUT, GET,
 * DELETE, `/stats`), waiting for readiness and for equal digests, and bulk loading through the
 * internal replicate route (a cluster holding N keys without N client round trips).
 *
 * @module
 */

import { encode } from "npm:@msgpack/msgpack@3.1.3";
import { type NodeProcess, waitFor } from "./node_process.ts";

/** What the replication tests read from `/stats`. */
export interface NodeStatsView {
  node: string;
  store: { entries: number; tombstones: number; digest: string };
  replication: {
    peers: Record<string, { queued: number; dropped: number }>;
    recordsSent: number;
    droppedRecords: number;
    recordsApplied: number;
    acks: { waited: number; confirmed: number; failed: number };
    antiEntropy: {
      rounds: number;
      repairedIn: number;
      repairedOut: number;
      initialSync: { state: string; records: number; ms: number };
    };
    lagMs: { p50: number; p99: number; max: number; samples: number };
  };
  /** Partitioned mode: requests passed to the keys' owners. */
  forwarding?: { reads: number; writes: number; failures: number };
}

/** Reads `/stats`. */
export async function statsOf(node: NodeProcess): Promise<NodeStatsView> {
  const res = await fetch(node.url("/stats"));
  return await res.json();
}

/** PUTs a JSON value; returns status and body. */
export async function put(
  node: NodeProcess,
  key: string,
  value: string,
  headers: Record<string, string> = {},
  ttlSeconds?: number,
): Promise<{ status: number; body: string }> {
  const res = await fetch(node.url(`/cache/${encodeURIComponent(key)}`), {
    method: "PUT",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(ttlSeconds === undefined ? { value } : { value, ttl: ttlSeconds }),
  });
  return { status: res.status, body: await res.text() };
}

/** DELETEs a key; returns the status. */
export async function del(
  node: NodeProcess,
  key: string,
  headers: Record<string, string> = {},
): Promise<number> {
  const res = await fetch(node.url(`/cache/${encodeURIComponent(key)}`), {
    method: "DELETE",
    headers,
  });
  await res.body?.cancel();
  return res.status;
}

/** GETs a key: its value, or undefined on 404. */
export async function get(node: NodeProcess, key: string): Promise<string | undefined> {
  const res = await fetch(node.url(`/cache/${encodeURIComponent(key)}`));
  const text = await res.text();
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${key}: ${res.status} ${text}`);
  return text;
}

/** Waits until `node` answers `/readyz` 200 (polling every `intervalMs`). */
export async function waitReadyz(
  node: NodeProcess,
  timeoutMs = 30_000,
  intervalMs = 20,
): Promise<void> {
  await waitFor(
    `${node.env.NODE_NAME} ready`,
    async () => {
      const r = await fetch(node.url("/readyz"));
      await r.body?.cancel();
      return r.status === 200 || undefined;
    },
    timeoutMs,
    intervalMs,
  );
}

/** Waits until every node answers `/readyz` 200 and replicates to all the others. */
export async function waitReady(nodes: NodeProcess[], timeoutMs = 20_000): Promise<void> {
  await waitFor(`${nodes.length} nodes ready and peered`, async () => {
    for (const n of nodes) {
      const r = await fetch(n.url("/readyz"));
      await r.body?.cancel();
      if (r.status !== 200) return undefined;
      const s = await statsOf(n);
      if (Object.keys(s.replication.peers).length !== nodes.length - 1) return undefined;
    }
    return true;
  }, timeoutMs);
}

/** Waits until every node's store digest is the same; returns it. */
export function waitSameDigest(nodes: NodeProcess[], timeoutMs = 20_000): Promise<string> {
  return waitFor(
    `equal digests on ${nodes.length} nodes`,
    async () => {
      const digests = await Promise.all(nodes.map(async (n) => (await statsOf(n)).store.digest));
      return digests.every((d) => d === digests[0]) ? digests[0] : undefined;
    },
    timeoutMs,
    100,
  );
}

/** Waits until every node has completed `rounds` more anti-entropy rounds than now. */
export async function waitRounds(nodes: NodeProcess[], rounds: number, timeoutMs = 20_000) {
  const start = await Promise.all(nodes.map(async (n) => (await statsOf(n)).replication));
  await waitFor(
    `${rounds} anti-entropy rounds`,
    async () => {
      const now = await Promise.all(nodes.map(async (n) => (await statsOf(n)).replication));
      return now.every((s, i) => s.antiEntropy.rounds >= start[i].antiEntropy.rounds + rounds) ||
        undefined;
    },
    timeoutMs,
    100,
  );
}

/** One record for {@link bulkLoad}. */
export interface LoadRecord {
  key: string;
  value: string;
  /** Absolute expiry (epoch ms), 0 = never. */
  expiresAt: number;
}

/**
 * Loads records into one node through `POST /internal/replicate` (as if written by node
 * `writer` at `hlc`), in batches of 5,000. Every node loaded with the same call holds the same
 * records and versions.
 */
export async function bulkLoad(
  node: NodeProcess,
  records: LoadRecord[],
  writer: string,
  hlc: number,
): Promise<void> {
  for (let i = 0; i < records.length; i += 5000) {
    const tuples = records.slice(i, i + 5000).map((r) => [r.key, r.value, r.expiresAt, hlc, 0]);
    const res = await fetch(node.url("/internal/replicate"), {
      method: "POST",
      headers: { "content-type": "application/msgpack" },
      body: encode([1, writer, 1, [writer], tuples]),
    });
    await res.body?.cancel();
    if (res.status !== 200) throw new Error(`bulk load: ${res.status}`);
  }
}
