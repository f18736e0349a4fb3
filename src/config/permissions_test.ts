import assert from "node:assert/strict";
import { CONFIG_ENV_VARS, ConfigError, nodeConfig, nodePermissions, strictNetwork } from "./mod.ts";

Deno.test("strictNetwork: own ports on any IPv4 host, peers' gossip and HTTP addresses", () => {
  const config = nodeConfig({
    gossipPort: 7000,
    httpPort: 8000,
    peers: ["10.0.0.2:7001", "10.0.0.3", "[fd00::1]:7002", "fd00::2"],
    peerHttp: ["10.0.0.2:8001"],
  });
  assert.deepEqual(strictNetwork(config), [
    "0.0.0.0/0:7000",
    "0.0.0.0/0:8000",
    "10.0.0.2:7001",
    "10.0.0.3:7946",
    "[fd00::1]:7002",
    "[fd00::2]:7946",
    "10.0.0.2:8001",
  ]);
  // A bind address outside IPv4 is granted by name.
  assert.deepEqual(strictNetwork(nodeConfig({ gossipPort: 7000, bindAddr: "::1" })).slice(2), [
    "[::1]:7000",
    "[::1]:8000",
  ]);
  assert.throws(() => strictNetwork(nodeConfig({ gossipPort: 0 })), ConfigError);
});

Deno.test("nodePermissions: the settings' env vars, and exactly the TLS files", () => {
  const open = nodePermissions(nodeConfig({ tlsCert: "c.pem", tlsKey: "k.pem" }), "open");
  assert.deepEqual(open, [
    "--no-prompt",
    "--allow-net",
    "--allow-sys=hostname",
    `--allow-env=${CONFIG_ENV_VARS.join(",")}`,
    "--allow-read=c.pem,k.pem",
  ]);
  const strict = nodePermissions(nodeConfig(), "strict");
  assert.equal(strict[1], "--allow-net=0.0.0.0/0:7946,0.0.0.0/0:8000");
  assert.ok(!strict.some((f) => f.startsWith("--allow-read")));
});

Deno.test("strictNetwork: DNS discovery grants the port on any IPv4 host and the DNS server", () => {
  const config = nodeConfig({
    gossipPort: 7000,
    peers: ["dns:cache.svc:7000", "10.0.0.2:7001"],
    dnsServer: "10.96.0.10:53",
  });
  assert.deepEqual(strictNetwork(config), [
    "0.0.0.0/0:7000",
    "0.0.0.0/0:8000",
    "10.96.0.10:53",
    "10.0.0.2:7001",
  ]);
  assert.throws(
    () => strictNetwork(nodeConfig({ peers: ["dns:cache.svc:7000"] })),
    /without DNS_SERVER: run:strict grants only the DNS server it is given/,
  );
  assert.throws(
    () =>
      strictNetwork(nodeConfig({ peers: ["dns+srv:_cache._udp.svc"], dnsServer: "10.0.0.1:53" })),
    /cannot grant the ports SRV records name/,
  );
});

Deno.test("strictNetwork: the edge port and the origin's host (its scheme's port by default)", () => {
  const config = nodeConfig({ edgePort: 8080, origin: "https://origin.example" });
  assert.deepEqual(strictNetwork(config), [
    "0.0.0.0/0:7946",
    "0.0.0.0/0:8000",
    "0.0.0.0/0:8080",
    "origin.example:443",
  ]);
  assert.equal(strictNetwork(nodeConfig({ origin: "http://[::1]:9000" })).at(-1), "[::1]:9000");
  assert.throws(() => strictNetwork(nodeConfig({ edgePort: 0 })), /EDGE_PORT=0/);
});
