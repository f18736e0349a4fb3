/**
 * Gossip encryption on real processes: nodes sharing SECRET_KEY form a cluster; a node with a
 * wrong key or no key cannot join it (and is not ready); a bad key stops the process with exit 2
 * without printing the key.
 */

import assert from "node:assert/strict";
import { NodeProcess, waitFor } from "./support/node_process.ts";
import { clusterView, startCluster } from "./support/cluster_process.ts";

const b64 = (n: number) => btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(n))));
const GOSSIP = { GOSSIP_PROFILE: "local", PROBE_INTERVAL: "400ms", PROBE_TIMEOUT: "150ms" };

Deno.test("an encrypted cluster forms; wrong-key and keyless nodes stay out", async () => {
  const key = b64(32);
  const nodes = await startCluster("enc", 3, { ...GOSSIP, SECRET_KEY: key });
  const seed = `127.0.0.1:${nodes[0].gossipPort}`;
  const intruders: NodeProcess[] = [];
  try {
    await waitFor(
      "3 alive",
      async () =>
        (await clusterView(nodes[2])).filter((m) => m.state === "alive").length === 3 || undefined,
    );
    intruders.push(
      await NodeProcess.start({
        ...GOSSIP,
        NODE_NAME: "wrong-key",
        SECRET_KEY: b64(32),
        PEER: seed,
      }),
      await NodeProcess.start({ ...GOSSIP, NODE_NAME: "no-key", PEER: seed }),
    );
    // Give them several join attempts (1 s backoff and up) and gossip rounds.
    await new Promise((r) => setTimeout(r, 3000));
    for (const intruder of intruders) {
      assert.equal((await fetch(intruder.url("/readyz"))).status, 503);
      assert.deepEqual((await clusterView(intruder)).map((m) => m.name), [intruder.env.NODE_NAME]);
    }
    for (const node of nodes) {
      const names = (await clusterView(node)).map((m) => m.name).sort();
      assert.deepEqual(names, ["enc-0", "enc-1", "enc-2"]);
    }
    // Rotation, step 1: a node that already holds the next key (as a secondary: every key
    // decrypts, the first encrypts) joins the running cluster.
    const rotated = await NodeProcess.start({
      ...GOSSIP,
      NODE_NAME: "rotating",
      SECRET_KEYS: `${key},${b64(16)}`,
      PEER: seed,
    });
    intruders.push(rotated);
    await waitFor(
      "rotating node joined",
      async () => (await fetch(rotated.url("/readyz"))).status === 200 || undefined,
      15_000,
    );
  } finally {
    await Promise.all([...nodes, ...intruders].map((n) => n.stop()));
  }
});

Deno.test("a malformed SECRET_KEY exits 2 naming the variable, not the key", async () => {
  const bad = btoa("twenty bytes of key!");
  const node = await NodeProcess.start({ SECRET_KEY: bad }, { wait: false });
  const status = await node.status;
  await node.stop();
  assert.equal(status.code, 2);
  const text = node.logs.join("\n");
  assert.match(text, /SECRET_KEY must be base64 of 16, 24 or 32 bytes: received 20 bytes/);
  assert.ok(!text.includes(bad), "the key must not be printed");
});
