/**
 * Interoperability with the real HashiCorp memberlist (Go, Debian's 0.2.2 package): mixed
 * clusters of Go peers (`gopeer/`) and Deno nodes started with the README's command, on
 * loopback. Without a Go toolchain or the memberlist source the tests are reported as ignored,
 * with the reason in their names — never as passed.
 */

import assert from "node:assert/strict";
import { DenoTransport } from "../../src/transport/mod.ts";
import { localConfig, Memberlist } from "../../src/membership/mod.ts";
import {
  clusterView,
  deadBound,
  FAST_GOSSIP,
  freePort,
  GoPeer,
  goPeerBinary,
  NodeProcess,
  startCluster,
  waitFor,
  waitForState,
} from "../../testing/mod.ts";

const built = await goPeerBinary();
const skip = built.path === undefined;
const suffix = skip ? ` (skipped: ${built.reason})` : "";
const binary = built.path ?? "";

// memberlist's local profile with faster probes on both sides.
const config = localConfig({ probeInterval: 400, probeTimeout: 150 });
const DENO_ENV = FAST_GOSSIP;
const GO_ARGS = ["-profile", "local", "-probe-interval", "400ms", "-probe-timeout", "150ms"];
/**
 * Log lines that would mean the two implementations disagree (a protocol "version" complaint,
 * not the `version=` field of the node's start line).
 */
const COMPLAINTS =
  /conflict|Failed push\/pull|version(?!=)|Failed to decode|checksum|Unknown message type/i;

async function startGo(
  name: string,
  join?: string,
  extra: string[] = [],
  port = freePort(),
): Promise<GoPeer> {
  return await GoPeer.start(binary, { name, port, join, args: [...GO_ARGS, ...extra] });
}

/** Whether every name is a live member on the Go peer (memberlist lists only live members). */
async function goSeesAlive(peer: GoPeer, names: string[]): Promise<boolean> {
  const members = await peer.members();
  return names.every((n) => members.some((m) => m.name === n));
}

/** memberlist's own log line when its suspicion of `name` times out (a death, not a leave). */
function markedFailed(peer: GoPeer, name: string, fromLog = 0): boolean {
  return peer.logs.slice(fromLog).some((l) => l.includes(`Marking ${name} as failed`));
}

function goLeaveEvent(peer: GoPeer, name: string, from: number, timeoutMs: number) {
  return peer.waitEvent((e) => e.event === "leave" && e.node.name === name, timeoutMs, from);
}

Deno.test({
  name:
    `a Deno node joins a Go cluster of 3: views, kill, restart, stop, leave, push/pull${suffix}`,
  ignore: skip,
  async fn(t) {
    const go0 = await startGo("go-0", undefined, ["-push-pull-interval", "1s"]);
    const seed = `127.0.0.1:${go0.port}`;
    const gos = [
      go0,
      await startGo("go-1", seed, ["-push-pull-interval", "1s", "-http-port", "1"]),
      await startGo("go-2", seed, ["-push-pull-interval", "1s", "-http-port", "2"]),
    ];
    let deno = await NodeProcess.start({ ...DENO_ENV, NODE_NAME: "deno-0", PEER: seed });
    const names = ["go-0", "go-1", "go-2", "deno-0"];
    try {
      await t.step(
        "every node lists the same 4 members alive with addresses and meta",
        async () => {
          await waitFor("4 alive on every Go peer", async () => {
            for (const g of gos) if (!(await goSeesAlive(g, names))) return undefined;
            return true;
          }, 15_000);
          await waitFor(
            "4 alive on the Deno node",
            async () =>
              (await clusterView(deno)).filter((m) => m.state === "alive").length === 4 ||
              undefined,
          );
          const view = await clusterView(deno);
          for (const g of gos) {
            const m = view.find((x) => x.name === g.name)!;
            assert.deepEqual([m.addr, m.port], ["127.0.0.1", g.port]);
          }
          assert.equal(view.find((x) => x.name === "go-1")!.meta.http_port, 1);
          const fromGo = (await gos[1].members()).find((m) => m.name === "deno-0")!;
          assert.deepEqual([fromGo.addr, fromGo.port, fromGo.meta], [
            "127.0.0.1",
            deno.gossipPort,
            { http_port: deno.httpPort },
          ]);
        },
      );

      await t.step(
        "periodic push/pull (every 1 s on the Go side) merges cleanly both ways",
        async () => {
          // Each Go peer push/pulls with a random member every second: wait for three with us.
          const stats = await waitFor(
            "3 push/pulls from Go",
            async () => {
              const s = (await (await fetch(deno.url("/stats"))).json()).membership;
              return s.pushPullsIn >= 3 ? s : undefined;
            },
            20_000,
            200,
          );
          assert.equal(stats.pushPullFailures, 0);
          assert.deepEqual(stats.dropped, {});
          for (const g of gos) {
            assert.deepEqual(g.logs.filter((l) => COMPLAINTS.test(l)), [], g.name);
          }
          assert.deepEqual(deno.logs.filter((l) => COMPLAINTS.test(l)), []);
        },
      );

      await t.step(
        "SIGKILL of the Deno node: the Go peers mark it dead within the bound",
        async () => {
          const marks = gos.map((g) => g.events.length);
          const logMarks = gos.map((g) => g.logs.length);
          const bound = deadBound(config, 4);
          const killed = Date.now();
          await deno.stop("SIGKILL");
          await Promise.all(gos.map((g, i) => goLeaveEvent(g, "deno-0", marks[i], bound)));
          // A death: some Go peer's own suspicion timed out (the others may learn by gossip).
          assert.ok(gos.some((g, i) => markedFailed(g, "deno-0", logMarks[i])));
          console.log(
            `Deno SIGKILL → dead on 3 Go peers: ${Date.now() - killed} ms (bound ${bound})`,
          );
        },
      );

      await t.step("the restarted Deno node rejoins on both sides", async () => {
        const marks = gos.map((g) => g.events.length);
        deno = await NodeProcess.start(deno.env);
        await Promise.all(
          gos.map((g, i) =>
            g.waitEvent((e) => e.event === "join" && e.node.name === "deno-0", 15_000, marks[i])
          ),
        );
        await waitFor(
          "Deno sees 4 alive",
          async () =>
            (await clusterView(deno)).filter((m) => m.state === "alive").length === 4 || undefined,
        );
      });

      await t.step(
        "SIGKILL of a Go peer: the Deno node marks it dead; restarted, alive",
        async () => {
          const bound = deadBound(config, 4);
          const killed = Date.now();
          await gos[2].stop("SIGKILL");
          await waitForState([deno], "go-2", "dead", bound);
          console.log(
            `Go SIGKILL → dead on the Deno node: ${Date.now() - killed} ms (bound ${bound})`,
          );
          gos[2] = await startGo("go-2", seed, ["-push-pull-interval", "1s"], gos[2].port);
          await waitForState([deno], "go-2", "alive", 15_000);
        },
      );

      await t.step(
        "SIGSTOP past the suspicion timeout, SIGCONT: alive again on both sides",
        async () => {
          // Deno node stopped: the Go peers declare it dead, then take it back.
          const marks = gos.map((g) => g.events.length);
          deno.signal("SIGSTOP");
          await goLeaveEvent(gos[0], "deno-0", marks[0], deadBound(config, 4));
          deno.signal("SIGCONT");
          await waitFor("Go peers see deno-0 alive again", async () => {
            for (const g of gos) if (!(await goSeesAlive(g, ["deno-0"]))) return undefined;
            return true;
          }, 20_000);
          // Go peer stopped: the Deno node declares it dead, then takes it back.
          gos[1].signal("SIGSTOP");
          await waitForState([deno], "go-1", "dead", deadBound(config, 4));
          gos[1].signal("SIGCONT");
          await waitForState([deno], "go-1", "alive", 20_000);
        },
      );

      await t.step("graceful leave is 'left', not 'dead', on the other side", async () => {
        await gos[1].command("leave");
        await waitForState([deno], "go-1", "left", 10_000);
        const marks = gos.map((g) => g.events.length);
        const logMarks = gos.map((g) => g.logs.length);
        assert.equal((await deno.stop("SIGTERM")).code, 0);
        await Promise.all([0, 2].map((i) => goLeaveEvent(gos[i], "deno-0", marks[i], 10_000)));
        // A leave, not a death: no Go peer's suspicion of it timed out.
        assert.ok(!gos.some((g, i) => markedFailed(g, "deno-0", logMarks[i])));
      });
    } finally {
      await Promise.all([deno.stop(), ...gos.map((g) => g.stop())]);
    }
  },
});

Deno.test({
  name: `a Go node joins a Deno cluster of 3 and is seen, killed and restarted${suffix}`,
  ignore: skip,
  async fn() {
    const denos = await startCluster("dc", 3, DENO_ENV);
    let go: GoPeer | undefined;
    try {
      const seed = `127.0.0.1:${denos[0].gossipPort}`;
      go = await startGo("go-j", seed, ["-http-port", "7"]);
      const names = ["dc-0", "dc-1", "dc-2", "go-j"];
      await waitFor("Go sees all alive", async () => (await goSeesAlive(go!, names)) || undefined);
      await waitForState(denos, "go-j", "alive", 15_000);
      const m = (await clusterView(denos[2])).find((x) => x.name === "go-j")!;
      assert.deepEqual([m.addr, m.port, m.http_port], ["127.0.0.1", go.port, 7]);
      const port = go.port;
      await go.stop("SIGKILL");
      await waitForState(denos, "go-j", "dead", deadBound(config, 4));
      go = await startGo("go-j", seed, [], port);
      await waitForState(denos, "go-j", "alive", 15_000);
      assert.deepEqual(go.logs.filter((l) => COMPLAINTS.test(l)), []);
    } finally {
      await Promise.all([go?.stop(), ...denos.map((d) => d.stop())]);
    }
  },
});

Deno.test({
  name: `user messages cross both ways over UDP and TCP, byte-exact, compressed${suffix}`,
  ignore: skip,
  async fn() {
    const received: Uint8Array[] = [];
    const transport = DenoTransport.listen({ hostname: "127.0.0.1", port: 0 });
    const ml = new Memberlist({
      name: "deno-msg",
      transport,
      config: { ...config, bindPort: transport.localAddress.port },
      delegate: { notifyMessage: (b) => received.push(b.slice()) },
    });
    await ml.start();
    const go = await startGo("go-msg", `127.0.0.1:${transport.localAddress.port}`);
    try {
      await waitFor("go member known", () => ml.member("go-msg")?.state === "alive" || undefined);
      const payload = (n: number) => crypto.getRandomValues(new Uint8Array(n));
      const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));
      // Go → Deno: UDP then TCP (TCP large enough to be worth compressing on our side too).
      const udp = payload(600), tcp = payload(20_000);
      await go.command(`send-udp deno-msg ${b64(udp)}`);
      await go.command(`send-tcp deno-msg ${b64(tcp)}`);
      await waitFor("both messages at Deno", () => received.length >= 2 || undefined);
      const got = received.map((b) => b64(b)).sort();
      assert.deepEqual(got, [b64(udp), b64(tcp)].sort());
      // Deno → Go, with a repetitive payload so compression really shrinks it.
      const text = new TextEncoder().encode("compress me ".repeat(500));
      const from = go.events.length;
      assert.ok(await ml.sendBestEffort("go-msg", udp));
      await ml.sendReliable("go-msg", text);
      const messages = () =>
        go.events.slice(from).filter((e) => e.event === "message").map((e) => e.payload as string);
      await waitFor("both messages at Go", () => messages().length >= 2 || undefined);
      assert.deepEqual(messages().sort(), [b64(udp), b64(text)].sort());
      assert.deepEqual(go.logs.filter((l) => COMPLAINTS.test(l)), []);
    } finally {
      await go.stop();
      await ml.shutdown();
    }
  },
});
