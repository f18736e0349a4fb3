/**
 * The deployment examples fit the node: `deploy/kubernetes/` (StatefulSet, headless Service,
 * PodDisruptionBudget) parses, its ports, probe paths, selectors and Service names agree, and its
 * env is accepted by the node's own config loader (every name is a setting, every value valid);
 * `deploy/systemd/cachenode.service` sets only settings the node reads and its hardening holds
 * (`systemd-analyze verify` and `security --offline`, when systemd-analyze is installed).
 */

import assert from "node:assert/strict";
import { parseAllDocuments } from "npm:yaml@2.9.1";
import { CONFIG_ENV_VARS, loadConfig, parsePeerEntry } from "../src/config/mod.ts";
import { needsBinary } from "../testing/mod.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;

const deploy = new URL("../deploy/", import.meta.url);

async function manifests(): Promise<Doc[]> {
  const docs: Doc[] = [];
  for await (const entry of Deno.readDir(new URL("kubernetes/", deploy))) {
    if (!entry.name.endsWith(".yaml")) continue;
    const text = await Deno.readTextFile(new URL(`kubernetes/${entry.name}`, deploy));
    for (const doc of parseAllDocuments(text)) {
      assert.deepEqual(doc.errors, [], entry.name);
      docs.push(doc.toJS());
    }
  }
  return docs;
}

const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

Deno.test("deploy/kubernetes: the StatefulSet, its Services and PDB fit together and the node", async () => {
  const docs = await manifests();
  const ofKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const [set] = ofKind("StatefulSet");
  assert.ok(set, "a StatefulSet");
  const pod = set.spec.template;
  assert.ok(matches(set.spec.selector.matchLabels, pod.metadata.labels));
  const [container] = pod.spec.containers;
  const portOf = (name: string) =>
    container.ports.find((p: Doc) => p.name === name)?.containerPort as number | undefined;

  // Env: settings of the node (or helpers other env values refer to), values the node accepts.
  const env = new Map<string, Doc>(container.env.map((e: Doc) => [e.name, e]));
  const helpers = [...env.keys()].filter((name) => !CONFIG_ENV_VARS.includes(name));
  for (const name of helpers) {
    assert.ok(
      container.env.some((e: Doc) => String(e.value ?? "").includes(`$(${name})`)),
      `${name} is neither a setting (CONFIG_ENV_VARS) nor used by one`,
    );
  }
  const sample: Record<string, string> = {
    "metadata.namespace": "default",
    "metadata.name": "cachenode-0",
    "status.podIP": "10.1.2.3",
  };
  const values: Record<string, string> = {};
  for (const [name, e] of env) {
    values[name] = e.value !== undefined ? String(e.value) : sample[e.valueFrom.fieldRef.fieldPath];
  }
  for (const [name, value] of Object.entries(values)) {
    values[name] = value.replace(/\$\((\w+)\)/g, (_, ref) => values[ref]);
  }
  const config = loadConfig({ env: (n) => values[n], args: [], hostname: () => "pod" });
  assert.equal(config.nodeName, "cachenode-0");
  assert.equal(config.advertiseAddr, "10.1.2.3");
  assert.equal(config.httpPort, portOf("http"));
  assert.equal(config.gossipPort, portOf("gossip-tcp"));
  assert.equal(config.gossipPort, portOf("gossip-udp"));

  // Peers: the headless Service's DNS name, on the gossip port.
  const [peer] = config.peers.map(parsePeerEntry);
  assert.equal(peer?.kind, "dns");
  const headless = ofKind("Service").find((s) => s.spec.clusterIP === "None");
  assert.ok(headless, "a headless Service");
  assert.equal(set.spec.serviceName, headless.metadata.name);
  assert.equal(
    peer?.kind === "dns" && peer.name,
    `${headless.metadata.name}.default.svc.cluster.local`,
  );
  assert.equal(peer?.kind === "dns" && peer.port, config.gossipPort);
  assert.equal(headless.spec.publishNotReadyAddresses, true, "pods are found before ready");

  // Every Service selects the pods and targets named container ports, same numbers.
  for (const service of ofKind("Service")) {
    assert.ok(matches(service.spec.selector, pod.metadata.labels), service.metadata.name);
    for (const p of service.spec.ports) {
      const target = container.ports.find((c: Doc) => c.name === p.targetPort);
      assert.ok(target, `${service.metadata.name}: port ${p.targetPort}`);
      assert.equal(target.protocol, p.protocol);
      assert.equal(target.containerPort, p.port);
    }
  }
  const gossip = headless.spec.ports.filter((p: Doc) => p.port === config.gossipPort);
  assert.deepEqual(gossip.map((p: Doc) => p.protocol).sort(), ["TCP", "UDP"]);

  // Probes on the node's health routes and HTTP port.
  assert.equal(container.readinessProbe.httpGet.path, "/readyz");
  assert.equal(container.livenessProbe.httpGet.path, "/healthz");
  for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) {
    assert.equal(portOf(container[probe].httpGet.port), config.httpPort, probe);
  }

  // The store budget stays below the memory limit (the runtime needs its own memory).
  const limit = container.resources.limits.memory as string;
  const limitBytes = Number(limit.replace(/Mi$/, "")) * 1024 * 1024;
  assert.ok(config.maxMemoryBytes > 0 && config.maxMemoryBytes <= limitBytes / 2, limit);

  const [pdb] = ofKind("PodDisruptionBudget");
  assert.ok(matches(pdb.spec.selector.matchLabels, pod.metadata.labels));
  assert.equal(pdb.spec.maxUnavailable, 1);

  const kustomization = docs.find((d) => d.kind === "Kustomization");
  const files = [...Deno.readDirSync(new URL("kubernetes/", deploy))]
    .map((e) => e.name).filter((n) => n.endsWith(".yaml") && n !== "kustomization.yaml").sort();
  assert.deepEqual([...kustomization.resources].sort(), files);
});

const unitPath = new URL("systemd/cachenode.service", deploy);

function unitSettings(text: string): [string, string][] {
  return text.split("\n")
    .filter((line) => /^[A-Za-z]+=/.test(line))
    .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]);
}

Deno.test("deploy/systemd: the unit sets only the node's settings, and is hardened", async () => {
  const settings = unitSettings(await Deno.readTextFile(unitPath));
  const get = (key: string) => settings.filter(([k]) => k === key).map(([, v]) => v);
  for (const assignment of get("Environment")) {
    const name = assignment.split("=")[0];
    assert.ok(CONFIG_ENV_VARS.includes(name), `Environment=${assignment}: not a setting`);
  }
  const config = loadConfig({
    env: (n) => Object.fromEntries(get("Environment").map((a) => a.split("=")))[n],
    args: [],
    hostname: () => "host",
  });
  assert.equal(config.logFormat, "json");
  assert.deepEqual(get("ExecStart"), ["/usr/local/bin/cachenode"]);
  for (
    const [key, value] of [
      ["NoNewPrivileges", "yes"],
      ["DynamicUser", "yes"],
      ["ProtectSystem", "strict"],
      ["CapabilityBoundingSet", ""],
      ["PrivateDevices", "yes"],
    ]
  ) {
    assert.deepEqual(get(key), [value], key);
  }
  // V8's JIT writes machine code: the unit must not forbid writable executable memory.
  assert.deepEqual(get("MemoryDenyWriteExecute"), ["no"]);
});

const analyze = needsBinary("systemd-analyze", "systemd");

Deno.test({
  name: `deploy/systemd: systemd-analyze verifies the unit, exposure at most 2.0${analyze.skip}`,
  ignore: analyze.path === undefined,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cachenode-unit-" });
    try {
      // The executable is not installed here: verify the unit with a stand-in.
      const unit = `${dir}/cachenode.service`;
      const text = await Deno.readTextFile(unitPath);
      await Deno.writeTextFile(unit, text.replace(/^ExecStart=.*$/m, "ExecStart=/bin/true"));
      const run = async (...args: string[]) => {
        const out = await new Deno.Command(analyze.path!, {
          args,
          stdout: "piped",
          stderr: "piped",
        })
          .output();
        const decode = (b: Uint8Array) => new TextDecoder().decode(b);
        return { code: out.code, text: decode(out.stdout) + decode(out.stderr) };
      };
      const verify = await run("verify", unit);
      assert.equal(verify.text.trim(), "", verify.text);
      const security = await run("security", "--offline=yes", unit);
      const exposure = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.text)?.[1]);
      assert.ok(exposure <= 2.0, `exposure ${exposure}\n${security.text}`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
