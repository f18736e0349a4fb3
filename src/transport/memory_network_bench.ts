import { VirtualClock } from "../util/clock.ts";
import { SeededRandom } from "../util/random.ts";
import { MemoryNetwork } from "./memory_network.ts";
import type { MemoryTransport } from "./memory_transport.ts";
import { runFor } from "./testing.ts";

// 5,000 nodes, 1% loss, 1-3 ms latency: one round is one packet per node to a random peer,
// sent, scheduled and delivered on virtual time (the per-packet cost of a large simulation).
const NODES = 5000;
const clock = new VirtualClock(0);
const random = new SeededRandom(7);
const network = new MemoryNetwork({ clock, random, latencyMs: 1, jitterMs: 2, loss: 0.01 });
const nodes: MemoryTransport[] = [];
let received = 0;
for (let i = 0; i < NODES; i++) {
  const t = network.attach({ host: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, port: 7946 });
  t.onPacket(() => received++);
  nodes.push(t);
}
const payload = new Uint8Array(200);

Deno.bench(`MemoryNetwork round of ${NODES} packets among ${NODES} nodes`, () => {
  for (const node of nodes) {
    const peer = nodes[Math.floor(random.next() * NODES)];
    void node.sendPacket(peer.localAddress, payload);
  }
  clock.advance(5);
});

Deno.bench(
  "MemoryNetwork stream exchange (dial, request, reply, close) on virtual time",
  async () => {
    const [a, b] = nodes;
    b.onStream(async (conn) => {
      const buf = new Uint8Array(16);
      const n = await conn.read(buf);
      await conn.write(buf.subarray(0, n ?? 0));
      conn.close();
    });
    const dial = a.dialStream(b.localAddress, 1000);
    await runFor(clock, 6, 3);
    const conn = await dial;
    await conn.write(payload.subarray(0, 16));
    const reply = conn.read(new Uint8Array(16));
    await runFor(clock, 6, 3);
    if ((await reply) !== 16) throw new Error("no reply");
    conn.close();
  },
);
