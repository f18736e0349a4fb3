/**
 * Gossip encryption against the real HashiCorp memberlist (Go, Debian's 0.2.2, `-key`): a mixed
 * cluster sharing a key works both ways (packets, push/pull, user messages, padded version-0
 * frames from Deno), and a wrong or missing key is refused on both
 * sides. Deno nodes run in-process on real sockets. Without a Go toolchain or the memberlist
 * source the tests are reported as ignored, with the reason in their names.
 */

import assert from "node:assert/strict";
import { DenoTransport } from "../../src/transport/mod.ts";
import {
  Keyring,
  keyringEncryption,
  lanConfig,
  Memberlist,
  type MembershipConfig,
  type MembershipDelegate,
  type MembershipEncryption,
} from "../../src/membership/mod.ts";
import { freePort, GoPeer, goPeerBinary, waitFor } from "../../testing/mod.ts";

const built = await goPeerBinary();
const skip = built.path === undefined;
const suffix = skip ? ` (skipped: ${built.reason})` : "";
const binary = built.path ?? "";

// LAN timings on both sides (generous on a shared machine), push/pull every 2 s.
const config = lanConfig({ pushPullInterval: 2_000 });
const GO_ARGS = ["-profile", "lan", "-push-pull-interval", "2s"];
const WAIT = 30_000;
/** Go log lines that would mean the implementations disagree (decryption included). */
const COMPLAINTS =
  /conflict|Failed push\/pull|version|Failed to decode|checksum|Unknown message type|decrypt|encrypt/i;

const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
const SHARED = crypto.getRandomValues(new Uint8Array(32));
const OTHER = crypto.getRandomValues(new Uint8Array(16));

async function startGo(name: string, keyBytes: Uint8Array, join?: string): Promise<GoPeer> {
  const args = [...GO_ARGS, "-key", b64(keyBytes)];
  return await GoPeer.start(binary, { name, port: freePort(), join, args });
}

function startDeno(
  name: string,
  encryption: MembershipEncryption | undefined,
  options: { config?: Partial<MembershipConfig>; delegate?: MembershipDelegate } = {},
): Memberlist {
  const transport = DenoTransport.listen({ hostname: "127.0.0.1", port: 0 });
  return new Memberlist({
    name,
    transport,
    config: { ...config, ...options.config, bindPort: transport.localAddress.port },
    encryption,
    delegate: options.delegate,
  });
}

const addressOf = (ml: Memberlist) => ml.localMember().address;
const seedOf = (ml: Memberlist) => `127.0.0.1:${addressOf(ml).port}`;
const goAddress = (go: GoPeer) => ({ host: "127.0.0.1", port: go.port });

/** Names of the members a Go peer lists (memberlist lists live ones only). */
async function goNames(peer: GoPeer): Promise<string[]> {
  return (await peer.members()).map((m) => m.name as string).sort();
}

function denoAlive(ml: Memberlist): string[] {
  return ml.members().filter((m) => m.state === "alive").map((m) => m.name).sort();
}

async function waitForView(
  gos: GoPeer[],
  denos: Memberlist[],
  names: string[],
): Promise<void> {
  const want = JSON.stringify([...names].sort());
  await waitFor(
    `every node to list ${want}`,
    async () => {
      for (const g of gos) if (JSON.stringify(await goNames(g)) !== want) return undefined;
      for (const d of denos) if (JSON.stringify(denoAlive(d)) !== want) return undefined;
      return true;
    },
    WAIT,
    100,
  );
}

Deno.test({
  name: `an encrypted mixed cluster (same key on Go and Deno) works both ways${suffix}`,
  ignore: skip,
  async fn(t) {
    const gos: GoPeer[] = [];
    const denos: Memberlist[] = [];
    try {
      // The Deno keyring holds a second key: it decrypts with either, encrypts with SHARED.
      const ring = new Keyring([SHARED, OTHER]);
      await t.step("Deno joins an encrypted Go node, and a Go node joins Deno", async () => {
        gos.push(await startGo("go-0", SHARED));
        const deno = startDeno("deno-0", keyringEncryption(ring));
        denos.push(deno);
        await deno.start();
        assert.equal(await deno.join([goAddress(gos[0])]), 1);
        gos.push(await startGo("go-1", SHARED, seedOf(deno)));
        await waitForView(gos, denos, ["go-0", "go-1", "deno-0"]);
      });

      await t.step("a Deno node sealing padded version-0 frames joins", async () => {
        // Frames as memberlist seals them at protocol version 1. The engine itself stays at 2:
        // version 1 assumes every node uses the receiver's port, which loopback cannot give.
        const ring1 = new Keyring([SHARED]);
        const v0 = startDeno("deno-v0", keyringEncryption(ring1, { protocolVersion: 1 }));
        denos.push(v0);
        await v0.start();
        assert.equal(await v0.join([goAddress(gos[1])]), 1);
        await waitForView(gos, denos, ["go-0", "go-1", "deno-0", "deno-v0"]);
      });

      await t.step("periodic encrypted push/pulls and probes run clean on both sides", async () => {
        const before = denos.map((d) => d.stats.pushPullsIn + d.stats.pushPullsOut);
        await waitFor(
          "3 more push/pulls on every Deno node",
          () =>
            denos.every((d, i) => d.stats.pushPullsIn + d.stats.pushPullsOut >= before[i] + 3) ||
            undefined,
          WAIT,
          100,
        );
        for (const d of denos) {
          assert.deepEqual(d.stats.dropped, {}, d.localMember().name);
          assert.deepEqual(d.stats.streamErrors, {}, d.localMember().name);
          assert.equal(d.stats.pushPullFailures, 0);
          assert.equal(d.stats.suspicions, 0);
        }
        for (const g of gos) assert.deepEqual(g.logs.filter((l) => COMPLAINTS.test(l)), [], g.name);
      });

      await t.step("user messages cross both ways over UDP and TCP, encrypted", async () => {
        const received: string[] = [];
        const msg = startDeno("deno-msg", keyringEncryption(new Keyring([SHARED])), {
          delegate: { notifyMessage: (b) => void received.push(new TextDecoder().decode(b)) },
        });
        denos.push(msg);
        await msg.start();
        assert.equal(await msg.join([goAddress(gos[0])]), 1);
        await waitFor("go-1 known", () => msg.member("go-1")?.state === "alive" || undefined, WAIT);
        await waitFor(
          "deno-msg on go-1",
          async () => (await goNames(gos[1])).includes("deno-msg") || undefined,
          WAIT,
          100,
        );
        await gos[1].command(`send-udp deno-msg ${b64(new TextEncoder().encode("go udp"))}`);
        await gos[1].command(`send-tcp deno-msg ${b64(new TextEncoder().encode("go tcp"))}`);
        await waitFor("both at Deno", () => received.length >= 2 || undefined, WAIT);
        assert.deepEqual(received.sort(), ["go tcp", "go udp"]);
        const from = gos[1].events.length;
        assert.ok(await msg.sendBestEffort("go-1", new TextEncoder().encode("deno udp")));
        await msg.sendReliable("go-1", new TextEncoder().encode("deno tcp ".repeat(300)));
        const got = () =>
          gos[1].events.slice(from).filter((e) => e.event === "message").map((e) =>
            atob(e.payload as string)
          );
        await waitFor("both at Go", () => got().length >= 2 || undefined, WAIT);
        assert.deepEqual(got().sort(), ["deno tcp ".repeat(300), "deno udp"]);
        for (const g of gos) assert.deepEqual(g.logs.filter((l) => COMPLAINTS.test(l)), [], g.name);
      });
    } finally {
      await Promise.all([...gos.map((g) => g.stop()), ...denos.map((d) => d.shutdown())]);
    }
  },
});

Deno.test({
  name: `a wrong or missing key is refused on both sides, Go and Deno${suffix}`,
  ignore: skip,
  async fn(t) {
    const gos: GoPeer[] = [];
    const denos: Memberlist[] = [];
    const good = ["go-good", "deno-good"];
    try {
      const goGood = await startGo("go-good", SHARED);
      gos.push(goGood);
      const denoGood = startDeno("deno-good", keyringEncryption(new Keyring([SHARED])));
      denos.push(denoGood);
      await denoGood.start();
      assert.equal(await denoGood.join([goAddress(goGood)]), 1);
      await waitForView([goGood], [denoGood], good);

      await t.step("a Go peer with another key: Deno refuses it, it refuses Deno", async () => {
        const goBad = await startGo("go-bad-0", OTHER);
        gos.push(goBad);
        // Go's Join fails only when no seed answers: the other bad peer answers, Deno must not.
        const goBad1 = await startGo(
          "go-bad-1",
          OTHER,
          `${seedOf(denoGood)},127.0.0.1:${goBad.port}`,
        );
        gos.push(goBad1);
        const joined = goBad1.events.find((e) => e.event === "joined")!;
        assert.equal(joined.count, 1, JSON.stringify(joined));
        await waitFor(
          "denoGood to count the refused push/pull",
          () => (denoGood.stats.streamErrors.decrypt ?? 0) >= 1 || undefined,
          WAIT,
        );
        const logMark = goBad.logs.length;
        assert.equal(await denoGood.join([goAddress(goBad)]), 0);
        await waitFor(
          "go-bad-0 to log the refusal",
          () => goBad.logs.slice(logMark).some((l) => /decrypt/i.test(l)) || undefined,
          WAIT,
        );
        assert.deepEqual(await goNames(goBad), ["go-bad-0", "go-bad-1"]);
        assert.deepEqual(await goNames(goBad1), ["go-bad-0", "go-bad-1"]);
      });

      await t.step("a Deno node with another key: Go refuses it, it refuses Go", async () => {
        const denoBad = startDeno("deno-bad", keyringEncryption(new Keyring([OTHER])));
        denos.push(denoBad);
        await denoBad.start();
        const logMark = goGood.logs.length;
        assert.equal(await denoBad.join([goAddress(goGood)]), 0);
        await waitFor(
          "go-good to log the refusal",
          () => goGood.logs.slice(logMark).some((l) => /decrypt/i.test(l)) || undefined,
          WAIT,
        );
        const goProbe = await startGo("go-probe", SHARED, `${seedOf(denoBad)},${seedOf(denoGood)}`);
        gos.push(goProbe);
        assert.equal(goProbe.events.find((e) => e.event === "joined")!.count, 1);
        await waitFor(
          "denoBad to count the refused push/pull",
          () => (denoBad.stats.streamErrors.decrypt ?? 0) >= 1 || undefined,
          WAIT,
        );
        assert.equal(denoBad.numMembers(), 1);
      });

      await t.step("a Deno node without a key: Go refuses it, it refuses Go", async () => {
        const denoPlain = startDeno("deno-plain", undefined);
        denos.push(denoPlain);
        await denoPlain.start();
        const logMark = goGood.logs.length;
        assert.equal(await denoPlain.join([goAddress(goGood)]), 0);
        await waitFor(
          "go-good to log the refusal",
          () => goGood.logs.slice(logMark).some((l) => /not encrypted/i.test(l)) || undefined,
          WAIT,
        );
        const goProbe = await startGo(
          "go-probe-2",
          SHARED,
          `${seedOf(denoPlain)},${seedOf(denoGood)}`,
        );
        gos.push(goProbe);
        assert.equal(goProbe.events.find((e) => e.event === "joined")!.count, 1);
        await waitFor(
          "denoPlain to count the refused push/pull",
          () => (denoPlain.stats.streamErrors.decrypt ?? 0) >= 1 || undefined,
          WAIT,
        );
        assert.equal(denoPlain.numMembers(), 1);
      });

      await t.step("the keyed cluster holds exactly its keyed members", async () => {
        // Let gossip and a few push/pulls run, then compare every keyed node's view.
        await new Promise((r) => setTimeout(r, 5_000));
        const keyed = [...good, "go-probe", "go-probe-2"];
        await waitForView(
          gos.filter((g) => keyed.includes(g.name)),
          [denoGood],
          keyed,
        );
        assert.deepEqual(denoGood.stats.dropped.decrypt ?? 0, 0);
        assert.equal(denoGood.stats.suspicions, 0);
      });
    } finally {
      await Promise.all([...gos.map((g) => g.stop()), ...denos.map((d) => d.shutdown())]);
    }
  },
});
