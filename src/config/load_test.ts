import assert from "node:assert/strict";
import { CONFIG_ENV_VARS, ConfigError, loadConfig, parsePeerEntry } from "./mod.ts";
import { parseBytes, parseDuration } from "./units.ts";

function load(env: Record<string, string>, args: string[] = []) {
  return loadConfig({ env: (n) => env[n], args, hostname: () => "box" });
}

Deno.test("loadConfig uses defaults with an empty environment", () => {
  const c = load({});
  assert.equal(c.gossipPort, 7946);
  assert.equal(c.httpPort, 8000);
  assert.equal(c.nodeName, "box-7946");
  assert.equal(c.bindAddr, "127.0.0.1");
  assert.deepEqual(c.peers, []);
  assert.equal(c.maxValueBytes, 4 * 1024 * 1024);
  assert.equal(c.defaultTtlMs, 0);
});

Deno.test("loadConfig reads the earlier service's env vars", () => {
  const c = load({ PORT: "7947", HTTP_PORT: "8001", PEER: "127.0.0.1:7946", NODE_NAME: "beta" });
  assert.equal(c.gossipPort, 7947);
  assert.equal(c.httpPort, 8001);
  assert.equal(c.nodeName, "beta");
  assert.deepEqual(c.peers, ["127.0.0.1:7946"]);
});

Deno.test("loadConfig merges PEER and PEERS and lets flags win", () => {
  const c = load(
    { PEER: "a:1", PEERS: "b:2, c:3", HTTP_PORT: "8001", MAX_MEMORY: "64mb" },
    ["--http-port", "9000", "--max-memory=1gb"],
  );
  assert.deepEqual(c.peers, ["a:1", "b:2", "c:3"]);
  assert.equal(c.httpPort, 9000);
  assert.equal(c.maxMemoryBytes, 1024 ** 3);
  assert.deepEqual(load({}, ["--peer", "x:1", "--peers", "y:2"]).peers, ["x:1", "y:2"]);
});

Deno.test("loadConfig reads DNS discovery: dns: and dns+srv: peers, refresh, DNS server", () => {
  const c = load({
    PEERS:
      "dns:cache-headless.default.svc.cluster.local:7946, dns+srv:_gossip._udp.cache, 10.0.0.9",
    PEERS_REFRESH: "5s",
    DNS_SERVER: "127.0.0.1:5353",
  });
  assert.deepEqual(c.peers, [
    "dns:cache-headless.default.svc.cluster.local:7946",
    "dns+srv:_gossip._udp.cache",
    "10.0.0.9",
  ]);
  assert.equal(c.peersRefreshMs, 5000);
  assert.equal(c.dnsServer, "127.0.0.1:5353");
  assert.equal(load({ DNS_SERVER: "10.96.0.10" }).dnsServer, "10.96.0.10:53");
  assert.equal(load({}).peersRefreshMs, 30_000);
  assert.equal(load({}).dnsServer, undefined);
});

Deno.test("loadConfig names the variable, the value and what is allowed", () => {
  const cases: [Record<string, string>, string[], RegExp][] = [
    [{ HTTP_PORT: "80a" }, [], /HTTP_PORT="80a".*port 0\.\.65535/],
    [{ PORT: "70000" }, [], /PORT="70000"/],
    [{ MAX_MEMORY: "lots" }, [], /MAX_MEMORY="lots".*64mb/],
    [{ DEFAULT_TTL: "5 parsecs" }, [], /DEFAULT_TTL="5 parsecs".*300ms/],
    [{ LOG_LEVEL: "loud" }, [], /LOG_LEVEL="loud".*debug, info/],
    [{ PEERS: "a:1,b c" }, [], /PEERS="a:1,b c"/],
    [{ PEERS: "dns:cache.svc" }, [], /PEERS="dns:cache.svc".*dns:<name>:<port>/],
    [{ PEERS: "dns+srv:a:1" }, [], /PEERS="dns\+srv:a:1"/],
    [{ DNS_SERVER: "dns.example:53" }, [], /DNS_SERVER="dns.example:53".*IP address/],
    [{ PEERS_REFRESH: "0s" }, [], /PEERS_REFRESH="0s"/],
    [{}, ["--http-port"], /--http-port: missing value/],
    [{}, ["--bogus", "1"], /argument "--bogus"/],
    [{ MAX_MEMORY: "1mb", MAX_VALUE_BYTES: "2mb" }, [], /MAX_VALUE_BYTES=2097152/],
  ];
  for (const [env, args, pattern] of cases) {
    assert.throws(
      () => load(env, args),
      (e) => e instanceof ConfigError && pattern.test(e.message),
    );
  }
});

Deno.test("parseDuration and parseBytes accept the documented forms", () => {
  assert.equal(parseDuration("300ms"), 300);
  assert.equal(parseDuration("1.5s"), 1500);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("250"), 250);
  assert.equal(parseDuration("-1s"), undefined);
  assert.equal(parseBytes("64mb"), 64 * 1024 * 1024);
  assert.equal(parseBytes("4MiB"), 4 * 1024 * 1024);
  assert.equal(parseBytes("1024"), 1024);
  assert.equal(parseBytes("1.5kb"), 1536);
  assert.equal(parseBytes("12 furlongs"), undefined);
});

Deno.test("the run task grants exactly the env vars the loader reads", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  for (const task of ["run", "start", "run:tls", "run:strict", "run:edge"]) {
    const flag = (denoJson.tasks[task] as string).split(/\s+/).find((w) =>
      w.startsWith("--allow-env=")
    );
    assert.deepEqual(
      flag?.slice("--allow-env=".length).split(",").sort(),
      [...CONFIG_ENV_VARS].sort(),
    );
  }
});

Deno.test("loadConfig reads the replication settings and keeps tombstones past anti-entropy", () => {
  const d = load({});
  assert.deepEqual(
    [d.writeAckTimeoutMs, d.antiEntropyIntervalMs, d.replicationTimeoutMs, d.tombstoneTtlMs],
    [2000, 5000, 3000, 600_000],
  );
  assert.equal(d.replicationBacklogBytes, 64 * 1024 * 1024);
  const c = load({
    WRITE_ACK_TIMEOUT: "500ms",
    ANTI_ENTROPY_INTERVAL: "1s",
    REPLICATION_TIMEOUT: "2s",
    REPLICATION_BACKLOG: "1mb",
    REPLICATION_FLUSH_DELAY: "2ms",
    REPLICATION_CHANNEL: "http",
    TOMBSTONE_TTL: "1m",
  });
  assert.equal(c.replicationChannel, "http");
  assert.equal(d.replicationChannel, "websocket");
  assert.deepEqual(
    [c.writeAckTimeoutMs, c.antiEntropyIntervalMs, c.replicationTimeoutMs, c.tombstoneTtlMs],
    [500, 1000, 2000, 60_000],
  );
  assert.deepEqual([c.replicationBacklogBytes, c.replicationFlushDelayMs], [1024 * 1024, 2]);
  assert.throws(
    () => load({ ANTI_ENTROPY_INTERVAL: "2m" }),
    (e) =>
      e instanceof ConfigError &&
      /TOMBSTONE_TTL=600000.*10 × ANTI_ENTROPY_INTERVAL/.test(e.message),
  );
  assert.throws(() => load({ TOMBSTONE_TTL: "5s" }), /TOMBSTONE_TTL="5s".*at least 10 ×/);
  assert.throws(() => load({ WRITE_ACK_TIMEOUT: "0" }), /WRITE_ACK_TIMEOUT="0".*positive/);
  assert.throws(() => load({ REPLICATION_FLUSH_DELAY: "5s" }), /REPLICATION_FLUSH_DELAY="5s"/);
  assert.throws(
    () => load({ REPLICATION_CHANNEL: "udp" }),
    /REPLICATION_CHANNEL="udp".*websocket or http/,
  );
});

Deno.test("loadConfig reads AUTH_TOKEN and never prints a rejected one", () => {
  assert.equal(load({}).authToken, undefined);
  const token = "Zm9vYmFyYmF6cXV4cXV1eA==";
  assert.equal(load({ AUTH_TOKEN: token }).authToken, token);
  assert.equal(load({ AUTH_TOKEN: "x" }, [`--auth-token=${token}`]).authToken, token);
  for (
    const bad of ["short-token", "has spaces in the token", 'quote"in-the-token-x', "é".repeat(20)]
  ) {
    assert.throws(
      () => load({ AUTH_TOKEN: bad }),
      (e) =>
        e instanceof ConfigError &&
        e.message.startsWith(`Invalid AUTH_TOKEN (${bad.length} characters, not shown)`) &&
        /16 to 4096 characters/.test(e.message) && !e.message.includes(bad),
    );
  }
});

Deno.test("loadConfig checks TLS files at start: a pair, readable, PEM", () => {
  const files: Record<string, string> = {
    "/c.pem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "/k.pem": "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n",
    "/p8.pem": "-----BEGIN PRIVATE KEY-----\nMIG\n-----END PRIVATE KEY-----\n",
  };
  const readTextFile = (path: string) => {
    if (path === "/denied.pem") throw new Deno.errors.NotCapable(`Requires read access`);
    if (!(path in files)) throw new Deno.errors.NotFound(`No such file: ${path}`);
    return files[path];
  };
  const tls = (env: Record<string, string>) =>
    loadConfig({ env: (n) => env[n], args: [], hostname: () => "box", readTextFile });
  const c = tls({ TLS_CERT: "/c.pem", TLS_KEY: "/k.pem" });
  assert.deepEqual([c.tlsCert, c.tlsKey, c.tlsCa], ["/c.pem", "/k.pem", undefined]);
  assert.equal(tls({ TLS_CERT: "/c.pem", TLS_KEY: "/p8.pem", TLS_CA: "/c.pem" }).tlsCa, "/c.pem");
  assert.equal(load({}).tlsCert, undefined);
  const fails = (env: Record<string, string>, message: RegExp) =>
    assert.throws(() => tls(env), (e) => e instanceof ConfigError && message.test(e.message));
  fails({ TLS_CERT: "/c.pem" }, /^Invalid TLS_CERT="\/c.pem": TLS_KEY must be set too$/);
  fails({ TLS_KEY: "/k.pem" }, /^Invalid TLS_KEY="\/k.pem": TLS_CERT must be set too$/);
  fails({ TLS_CA: "/c.pem" }, /^Invalid TLS_CA="\/c.pem": TLS_CERT and TLS_KEY must be set too$/);
  fails(
    { TLS_CERT: "/denied.pem", TLS_KEY: "/k.pem" },
    /^Invalid TLS_CERT="\/denied.pem": cannot read it: no read permission: start with --allow-read=\/denied.pem,\/k.pem \(deno task run:tls does\)$/,
  );
  fails(
    { TLS_CERT: "/c.pem", TLS_KEY: "/nope.pem" },
    /^Invalid TLS_KEY="\/nope.pem": cannot read it: no such file$/,
  );
  fails(
    { TLS_CERT: "/k.pem", TLS_KEY: "/k.pem" },
    /^Invalid TLS_CERT="\/k.pem": expected a PEM certificate file$/,
  );
  fails(
    { TLS_CERT: "/c.pem", TLS_KEY: "/c.pem" },
    /^Invalid TLS_KEY="\/c.pem": expected a PEM private key file$/,
  );
  fails(
    { TLS_CERT: "/c.pem", TLS_KEY: "/k.pem", TLS_CA: "/k.pem" },
    /^Invalid TLS_CA="\/k.pem": expected PEM certificates file$/,
  );
});

Deno.test("loadConfig reads MAX_IN_FLIGHT and BODY_TIMEOUT", () => {
  const d = load({});
  assert.deepEqual([d.maxInFlight, d.bodyTimeoutMs], [512, 30_000]);
  const c = load({ MAX_IN_FLIGHT: "64", BODY_TIMEOUT: "5s" });
  assert.deepEqual([c.maxInFlight, c.bodyTimeoutMs], [64, 5_000]);
  assert.throws(
    () => load({ MAX_IN_FLIGHT: "0" }),
    /Invalid MAX_IN_FLIGHT="0": expected a positive integer/,
  );
  assert.throws(
    () => load({ BODY_TIMEOUT: "0" }),
    /Invalid BODY_TIMEOUT="0": expected a positive duration/,
  );
});

Deno.test("loadConfig names a bad gossip key and its length, never the key", () => {
  const bad = btoa("x".repeat(20));
  assert.throws(
    () => load({ SECRET_KEY: bad }),
    (e) =>
      e instanceof ConfigError && !e.message.includes(bad) &&
      e.message === "Invalid SECRET_KEY must be base64 of 16, 24 or 32 bytes: received 20 bytes",
  );
  assert.throws(
    () => load({ SECRET_KEYS: `${btoa("k".repeat(16))},nope!` }),
    /^ConfigError: Invalid SECRET_KEYS\[1\] must be base64: received invalid base64$/,
  );
});

Deno.test("loadConfig derives the value limit from MAX_MEMORY when only that is set", () => {
  assert.equal(load({ MAX_MEMORY: "64kb" }).maxValueBytes, 64 * 1024);
  assert.equal(load({ MAX_MEMORY: "0" }).maxValueBytes, 4 * 1024 * 1024);
  assert.equal(load({ MAX_MEMORY: "1gb" }).maxValueBytes, 4 * 1024 * 1024);
  assert.equal(load({ MAX_MEMORY: "64kb", MAX_VALUE_BYTES: "1kb" }).maxValueBytes, 1024);
  assert.throws(() => load({ MAX_MEMORY: "64kb", MAX_VALUE_BYTES: "1mb" }), /MAX_VALUE_BYTES=/);
});

Deno.test("parsePeerEntry tells addresses from DNS names, and refuses what is neither", () => {
  assert.deepEqual(parsePeerEntry("10.0.0.2:7946"), { kind: "address", address: "10.0.0.2:7946" });
  assert.deepEqual(parsePeerEntry("dns:7946"), { kind: "address", address: "dns:7946" });
  assert.deepEqual(parsePeerEntry("dns:cache.svc.:7946"), {
    kind: "dns",
    name: "cache.svc.",
    port: 7946,
  });
  assert.deepEqual(parsePeerEntry("dns+srv:_gossip._udp.cache"), {
    kind: "srv",
    name: "_gossip._udp.cache",
  });
  for (const bad of ["dns:cache.svc", "dns:a:99999", "dns+srv:", "dns+srv:a:1", "a b"]) {
    assert.equal(parsePeerEntry(bad), undefined, bad);
  }
});

Deno.test("loadConfig reads the edge settings and names a bad ORIGIN", () => {
  const d = load({});
  assert.deepEqual(
    [d.origin, d.edgePort, d.edgeDefaultTtlMs, d.edgeOriginTimeoutMs, d.edgeCacheCookies],
    [undefined, undefined, 0, 10_000, []],
  );
  const c = load({
    ORIGIN: "http://127.0.0.1:9000/",
    EDGE_PORT: "0",
    EDGE_DEFAULT_TTL: "30s",
    EDGE_ORIGIN_TIMEOUT: "2s",
    EDGE_CACHE_COOKIES: "_ga, consent",
  });
  assert.deepEqual(
    [c.origin, c.edgePort, c.edgeDefaultTtlMs, c.edgeOriginTimeoutMs, c.edgeCacheCookies],
    ["http://127.0.0.1:9000", 0, 30_000, 2000, ["_ga", "consent"]],
  );
  for (const bad of ["ftp://x", "http://x?q=1", "http://x#f", "x:80"]) {
    assert.throws(() => load({ ORIGIN: bad }), /Invalid ORIGIN=.*expected an http:\/\/ or https/);
  }
  assert.throws(() => load({ EDGE_ORIGIN_TIMEOUT: "0" }), /Invalid EDGE_ORIGIN_TIMEOUT/);
});

Deno.test("WORKER_MODE: pool by default; direct needs a fixed EDGE_PORT (every worker listens on it)", () => {
  assert.equal(load({}).workerMode, "pool");
  const direct = { WORKER: "workers/w.ts", WORKER_MODE: "direct" };
  assert.equal(load({ ...direct, EDGE_PORT: "8787" }).workerMode, "direct");
  assert.throws(() => load(direct), /WORKER_MODE=direct: expected EDGE_PORT set to a port/);
  assert.throws(() => load({ ...direct, EDGE_PORT: "0" }), /expected EDGE_PORT set/);
  assert.throws(() => load({ WORKER_MODE: "threads" }), /WORKER_MODE="threads".*pool .* or direct/);
});

Deno.test("WORKER_ISOLATION: thread by default, or process", () => {
  assert.equal(load({}).workerIsolation, "thread");
  assert.equal(load({ WORKER_ISOLATION: "process" }).workerIsolation, "process");
  assert.throws(
    () => load({ WORKER_ISOLATION: "vm" }),
    /WORKER_ISOLATION="vm".*thread .* or process/,
  );
});
