// The node's loader: config's loader plus membership's check of the gossip preset, and the
// membership config built from it.
import assert from "node:assert/strict";
import { ConfigError } from "../config/mod.ts";
import { loadNodeConfig, membershipConfigOf } from "./resolve.ts";

function load(env: Record<string, string>, args: string[] = []) {
  return loadNodeConfig({ env: (n) => env[n], args, hostname: () => "box" });
}

Deno.test("loadConfig reads the gossip profile and overrides, validated together", () => {
  const c = load({ GOSSIP_PROFILE: "local", PROBE_INTERVAL: "2s", GOSSIP_NODES: "5" }, [
    "--suspicion-mult",
    "6",
  ]);
  assert.equal(c.gossipProfile, "local");
  assert.deepEqual(c.gossip, { probeInterval: 2000, gossipNodes: 5, suspicionMult: 6 });
  const m = membershipConfigOf(c);
  assert.equal(m.probeInterval, 2000);
  assert.equal(m.probeTimeout, 200); // from the local preset
  assert.equal(m.bindPort, 7946);
  assert.throws(
    () => load({ GOSSIP_PROFILE: "lan", PROBE_TIMEOUT: "5s" }),
    (e) =>
      e instanceof ConfigError && /PROBE_TIMEOUT="5s"/.test(e.message) &&
      /probeTimeout/.test(e.message),
  );
  assert.throws(() => load({ GOSSIP_NODES: "0" }), /GOSSIP_NODES="0".*positive integer/);
  assert.throws(() => load({ GOSSIP_PROFILE: "mars" }), /GOSSIP_PROFILE="mars".*local, lan or wan/);
});

Deno.test("loadConfig reads MAX_MEMBERS and refuses a cap below 2", () => {
  assert.equal(membershipConfigOf(load({})).maxMembers, 100_000);
  assert.equal(membershipConfigOf(load({ MAX_MEMBERS: "500" })).maxMembers, 500);
  assert.throws(() => load({ MAX_MEMBERS: "1" }), /Invalid MAX_MEMBERS="1": .*maxMembers must be/);
  assert.throws(
    () => load({ MAX_MEMBERS: "many" }),
    /Invalid MAX_MEMBERS="many": expected a positive/,
  );
});

Deno.test("a gossip problem names the override involved, else the profile", () => {
  // probeTimeout (preset 500 ms) must stay below the overridden probeInterval.
  assert.throws(
    () => load({ PROBE_INTERVAL: "100ms" }),
    /^ConfigError: Invalid PROBE_INTERVAL="100ms": Invalid membership config: probeTimeout must be/,
  );
  assert.throws(
    () => load({ GOSSIP_PROFILE: "wan", PROBE_INTERVAL: "100ms" }),
    /^ConfigError: Invalid PROBE_INTERVAL="100ms": .*probeTimeout/,
  );
});
