/**
 * TLS with certificates made in the test: nodes serve HTTPS and replicate over HTTPS and WSS
 * (with the bearer token), clients must trust the certificate, plain HTTP gets nothing; the
 * `run:tls` task, given the files by flags, grants read access to them, and a node that cannot read
 * its TLS files exits 2 with one line saying what to grant.
 */

import assert from "node:assert/strict";
import { CacheNode } from "../mod.ts";
import {
  freePort,
  makeTestCertificates,
  repositoryRoot,
  runTaskCommand,
  type TestCertificates,
  waitFor,
} from "../testing/mod.ts";

const TOKEN = "tls-test-token-0123456789abcdef";
const GOSSIP = {
  gossipProfile: "local" as const,
  gossip: { probeInterval: 400, probeTimeout: 150 },
};

/** A client trusting `caFile`, and a fetch through it with the token. */
async function trustingClient(caFile: string) {
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(caFile)] });
  const request = (url: string, init: RequestInit = {}) =>
    fetch(url, {
      ...init,
      client,
      headers: { authorization: `Bearer ${TOKEN}`, ...init.headers as Record<string, string> },
    });
  return { client, request };
}

async function startPair(
  certs: { cert: string; key: string; ca?: string },
  channel: "websocket" | "http",
) {
  const tls = { tlsCert: certs.cert, tlsKey: certs.key, tlsCa: certs.ca };
  const a = new CacheNode({
    ...GOSSIP,
    ...tls,
    nodeName: "tls-a",
    httpPort: 0,
    gossipPort: 0,
    authToken: TOKEN,
    replicationChannel: channel,
  });
  await a.start();
  const seed = `127.0.0.1:${a.members()[0].port}`;
  const b = new CacheNode({
    ...GOSSIP,
    ...tls,
    nodeName: "tls-b",
    httpPort: 0,
    gossipPort: 0,
    authToken: TOKEN,
    peers: [seed],
    replicationChannel: channel,
  });
  await b.start();
  await waitFor("b ready", () => b.readiness().ready || undefined, 20_000);
  return {
    a,
    b,
    url: (n: CacheNode, path: string) => `https://127.0.0.1:${n.httpAddress!.port}${path}`,
  };
}

async function withCerts(fn: (certs: TestCertificates) => Promise<void>) {
  const certs = await makeTestCertificates();
  try {
    await fn(certs);
  } finally {
    await certs.remove();
  }
}

Deno.test("TLS: CA-signed nodes serve HTTPS and replicate over WSS and HTTPS with the token", async () => {
  await withCerts(async (certs) => {
    const { client, request } = await trustingClient(certs.ca);
    for (const channel of ["websocket", "http"] as const) {
      const { a, b, url } = await startPair(
        { cert: certs.cert, key: certs.key, ca: certs.ca },
        channel,
      );
      try {
        // Write on each side with every replica acknowledging: both directions went through.
        for (const [node, key] of [[a, "from-a"], [b, "from-b"]] as const) {
          await waitFor(`${key} acknowledged by all`, async () => {
            const res = await request(url(node, `/cache/${key}`), {
              method: "PUT",
              headers: { "content-type": "text/plain", "x-write-acks": "all" },
              body: channel,
            });
            await res.body?.cancel();
            return res.status === 200 || undefined;
          }, 20_000);
        }
        for (const node of [a, b]) {
          assert.equal(await (await request(url(node, "/cache/from-a"))).text(), channel);
          assert.equal(await (await request(url(node, "/cache/from-b"))).text(), channel);
        }
        assert.equal(a.stats().store.digest, b.stats().store.digest);
        // The dashboard reaches its peer over HTTPS with the token.
        const state = await (await request(url(a, "/dashboard/state"))).json();
        assert.equal(
          state.members.find((m: { name: string }) => m.name === "tls-b")?.summary?.keys,
          2,
        );
        // No token: 401 over TLS too. An untrusting client and plain HTTP get nothing.
        const anonymous = await fetch(url(a, "/cache/from-a"), { client });
        await anonymous.body?.cancel();
        assert.equal(anonymous.status, 401);
        await assert.rejects(fetch(url(a, "/healthz")), TypeError);
        await assert.rejects(
          fetch(url(a, "/healthz").replace("https:", "http:"), {
            signal: AbortSignal.timeout(5000),
          }),
        );
      } finally {
        await b.close();
        await a.close();
      }
    }
    client.close();
  });
});

Deno.test("TLS: a shared self-signed certificate needs no TLS_CA (each node trusts its own)", async () => {
  await withCerts(async (certs) => {
    const { a, b, url } = await startPair(certs.selfSigned, "websocket");
    const { client, request } = await trustingClient(certs.selfSigned.cert);
    try {
      await waitFor("replicated", async () => {
        const res = await request(url(a, "/cache/k"), {
          method: "PUT",
          headers: { "content-type": "text/plain", "x-write-acks": "all" },
          body: "v",
        });
        await res.body?.cancel();
        return res.status === 200 || undefined;
      }, 20_000);
      assert.equal(b.get("k")?.value, "v");
    } finally {
      client.close();
      await b.close();
      await a.close();
    }
  });
});

/** Runs a task's command as a process (no `deno task` wrapper, so a kill reaches it). */
async function spawnTask(task: string, env: Record<string, string>, flags: string[] = []) {
  const [program, ...args] = await runTaskCommand(task);
  const child = new Deno.Command(program, {
    args: [...args, ...flags],
    env: { ...env, NO_COLOR: "1", PATH: Deno.env.get("PATH") ?? "" },
    clearEnv: true,
    cwd: repositoryRoot,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output().then((o) => new TextDecoder().decode(o.stderr).trim());
  return {
    child,
    output,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await output;
    },
  };
}

Deno.test("TLS: the run:tls task serves HTTPS with the files given by flags", async () => {
  await withCerts(async (certs) => {
    const { client } = await trustingClient(certs.ca);
    const httpPort = freePort();
    // Flags only: the launcher grants read access to the files they name (the CA file too).
    const node = await spawnTask("run:tls", {}, [
      `--http-port=${httpPort}`,
      `--port=${freePort()}`,
      "--node-name=tls-task",
      "--tls-cert",
      certs.cert,
      "--tls-key",
      certs.key,
      "--tls-ca",
      certs.ca,
    ]);
    try {
      await waitFor("https /healthz", async () => {
        const res = await fetch(`https://127.0.0.1:${httpPort}/healthz`, { client }).catch(() =>
          undefined
        );
        await res?.body?.cancel();
        return res?.ok || undefined;
      }, 20_000);
    } finally {
      await node.stop();
      client.close();
    }
  });
});

Deno.test("TLS: a node that cannot read its TLS files exits 2 with one line naming what to grant", async () => {
  await withCerts(async (certs) => {
    const base = { HTTP_PORT: String(freePort()), PORT: String(freePort()) };
    const cases: [string, Record<string, string>, RegExp][] = [
      // The plain run task grants no file at all.
      [
        "run",
        { TLS_CERT: certs.cert, TLS_KEY: certs.key },
        new RegExp(
          `^Invalid TLS_CERT="${certs.cert}": cannot read it: no read permission: start with --allow-read=${certs.cert},${certs.key} \\(deno task run:tls does\\)$`,
        ),
      ],
      [
        "run:tls",
        { TLS_CERT: certs.cert, TLS_KEY: certs.cert },
        /^Invalid TLS_KEY=".*node.pem": expected a PEM private key file$/,
      ],
    ];
    for (const [task, env, expected] of cases) {
      const node = await spawnTask(task, { ...base, ...env });
      const status = await node.child.status;
      const line = await node.output;
      assert.equal(status.code, 2, line);
      assert.match(line, expected);
      assert.equal(line.split("\n").length, 1);
    }
  });
});
