/**
 * DNS discovery with a real DNS server: a dnsmasq started by the test on a loopback port serves
 * `cluster.test` from a hosts file the test rewrites (dnsmasq re-reads it on SIGHUP). Three real
 * nodes, each on its own loopback address (127.0.0.2, .3, .4: Linux routes all of 127/8 to
 * loopback) with one gossip port and only `PEERS=dns:cluster.test:<port>`, form one cluster; a
 * fourth node started with no peers at all is joined by them once its address is added to the
 * records, without a restart; a fifth whose name has no records yet starts anyway (logged, not
 * ready) and joins once they appear. Three nodes sharing 127.0.0.1 on their own ports find each other
 * through SRV records (`dns+srv:`). Reported ignored without dnsmasq (Debian `dnsmasq-base`).
 */

import assert from "node:assert/strict";
import { clusterView, freePort, needsBinary, NodeProcess, waitFor } from "../testing/mod.ts";

const dnsmasq = needsBinary("dnsmasq", "dnsmasq-base");

/** A dnsmasq on 127.0.0.1:`port` answering only from the records `records` give. */
function startDnsmasq(port: number, records: string[]): Deno.ChildProcess {
  return new Deno.Command(dnsmasq.path!, {
    args: [
      "--no-daemon",
      `--port=${port}`,
      "--listen-address=127.0.0.1",
      "--bind-interfaces",
      "--no-resolv",
      "--no-hosts",
      "--pid-file=",
      ...records,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** Waits until every node lists exactly `names` as alive members. */
function allAlive(nodes: NodeProcess[], names: string[]) {
  return async () => {
    for (const node of nodes) {
      const view = await clusterView(node);
      const alive = view.filter((m) => m.state === "alive").map((m) => m.name).sort();
      if (JSON.stringify(alive) !== JSON.stringify(names)) return undefined;
    }
    return true;
  };
}

Deno.test({
  name: `3 nodes with only PEERS=dns:... form a cluster; a 4th added to DNS is joined; ` +
    `a 5th whose name resolves later starts and joins${dnsmasq.skip}`,
  ignore: dnsmasq.path === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cachenode-dns-" });
    await Deno.chmod(dir, 0o755); // dnsmasq reads the file as nobody
    const hostsFile = `${dir}/hosts`;
    const hosts = ["127.0.0.2", "127.0.0.3", "127.0.0.4"];
    const writeHosts = (lines: string[]) =>
      Deno.writeTextFile(hostsFile, lines.map((line) => `${line}\n`).join(""), { mode: 0o644 });
    const records = hosts.map((ip) => `${ip} cluster.test`);
    await writeHosts(records);
    const dnsPort = freePort();
    const server = startDnsmasq(dnsPort, [`--addn-hosts=${hostsFile}`]);
    const nodes: NodeProcess[] = [];
    const nameServer = { ipAddr: "127.0.0.1", port: dnsPort };
    try {
      await waitFor("dnsmasq to answer", async () => {
        const found = await Deno.resolveDns("cluster.test", "A", { nameServer });
        return found.length === 3 ? true : undefined;
      });
      const gossipPort = freePort();
      const env = (i: number, ip: string, name?: string) => ({
        NODE_NAME: `dns-${i}`,
        BIND_ADDR: ip,
        PORT: String(gossipPort),
        GOSSIP_PROFILE: "local",
        ...(name
          ? {
            PEERS: `dns:${name}:${gossipPort}`,
            DNS_SERVER: `127.0.0.1:${dnsPort}`,
            PEERS_REFRESH: "1s",
          }
          : {}),
      });
      nodes.push(
        ...await Promise.all(
          hosts.map((ip, i) => NodeProcess.start(env(i, ip, "cluster.test"))),
        ),
      );
      await waitFor(
        "3 nodes to see each other alive",
        allAlive(nodes, ["dns-0", "dns-1", "dns-2"]),
        15_000,
      );
      for (const node of nodes) {
        await waitFor(`${node.env.NODE_NAME} ready`, async () => {
          const res = await fetch(node.url("/readyz"));
          await res.body?.cancel();
          return res.ok ? true : undefined;
        });
      }
      // A fourth node knowing no peers: the others find it in DNS and join it.
      nodes.push(await NodeProcess.start(env(3, "127.0.0.5")));
      assert.equal((await clusterView(nodes[3])).length, 1);
      // A fifth node whose name has no records yet: it starts, says so, and is not ready.
      const late = await NodeProcess.start(env(4, "127.0.0.6", "late.test"));
      nodes.push(late);
      await waitFor(
        "the late node to log its failed lookup",
        () =>
          late.logs.some((l) => /WARN.*Cannot discover peers by DNS.*late\.test/.test(l))
            ? true
            : undefined,
      );
      const notReady = await fetch(late.url("/readyz"));
      assert.equal(notReady.status, 503);
      assert.match(await notReady.text(), /no peers resolved by DNS yet/);
      await writeHosts([...records, "127.0.0.5 cluster.test", "127.0.0.2 late.test"]);
      server.kill("SIGHUP");
      await waitFor(
        "all 5 nodes to see each other alive",
        allAlive(nodes, ["dns-0", "dns-1", "dns-2", "dns-3", "dns-4"]),
        15_000,
      );
      assert.ok(
        nodes.slice(0, 3).some((n) =>
          n.logs.some((l) => /joined discovered peers.*127\.0\.0\.5/.test(l))
        ),
        "a node logged joining the new address",
      );
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      server.kill("SIGTERM");
      await server.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: `nodes sharing 127.0.0.1 find each other by SRV records (targets and ports)${dnsmasq.skip}`,
  ignore: dnsmasq.path === undefined,
  async fn() {
    const ports = [freePort(), freePort(), freePort()];
    const dnsPort = freePort();
    const server = startDnsmasq(dnsPort, [
      ...ports.map((p, i) => `--srv-host=_cache._udp.srv.test,n${i}.srv.test,${p}`),
      ...ports.map((_, i) => `--host-record=n${i}.srv.test,127.0.0.1`),
    ]);
    const nodes: NodeProcess[] = [];
    try {
      await waitFor("dnsmasq to answer", async () => {
        const found = await Deno.resolveDns("_cache._udp.srv.test", "SRV", {
          nameServer: { ipAddr: "127.0.0.1", port: dnsPort },
        });
        return found.length === 3 ? true : undefined;
      });
      nodes.push(
        ...await Promise.all(ports.map((port, i) =>
          NodeProcess.start({
            NODE_NAME: `srv-${i}`,
            PORT: String(port),
            GOSSIP_PROFILE: "local",
            PEERS: "dns+srv:_cache._udp.srv.test",
            DNS_SERVER: `127.0.0.1:${dnsPort}`,
          })
        )),
      );
      await waitFor(
        "3 nodes to see each other alive",
        allAlive(nodes, ["srv-0", "srv-1", "srv-2"]),
        15_000,
      );
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      server.kill("SIGTERM");
      await server.status;
    }
  },
});
