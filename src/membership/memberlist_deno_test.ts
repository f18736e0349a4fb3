// Two engines over real UDP/TCP sockets on loopback with the system clock: the same engine code
// the in-memory tests drive, checked against the real transport and real timers.
import assert from "node:assert/strict";
import { DenoTransport } from "../transport/mod.ts";
import { localConfig } from "./config.ts";
import { Memberlist } from "./memberlist.ts";

async function eventually(check: () => boolean, maxMs: number): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > maxMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("Memberlist works over DenoTransport on loopback", async () => {
  const received: Uint8Array[] = [];
  const mk = (name: string) => {
    const transport = DenoTransport.listen({ hostname: "127.0.0.1", port: 0, logger: () => {} });
    return new Memberlist({
      name,
      transport,
      config: localConfig(),
      delegate: {
        nodeMeta: () => new TextEncoder().encode(name),
        notifyMessage: (m) => void received.push(m.slice()),
      },
    });
  };
  const a = mk("a"), b = mk("b");
  try {
    await a.start();
    await b.start();
    assert.equal(await b.join([a.address]), 1);
    await eventually(() => a.numMembers() === 2 && b.numMembers() === 2, 2_000);
    assert.equal(new TextDecoder().decode(a.member("b")!.meta), "b");
    assert.deepEqual(a.member("b")!.address, b.address);
    const big = Uint8Array.from({ length: 100_000 }, (_, i) => i & 255);
    assert.equal(await a.sendBestEffort("b", Uint8Array.of(1, 2, 3)), true);
    await a.sendReliable("b", big);
    await eventually(() => received.length === 2, 2_000);
    assert.deepEqual(received.find((m) => m.length === 3), Uint8Array.of(1, 2, 3));
    assert.deepEqual(received.find((m) => m.length === big.length), big);
    // A probe round or two over real UDP.
    await new Promise((r) => setTimeout(r, 1_500));
    assert.ok(a.stats.acksIn >= 1 && b.stats.acksIn >= 1);
    assert.equal(await b.leave(2_000), true);
    await eventually(() => a.member("b")?.state === "left", 2_000);
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
});
