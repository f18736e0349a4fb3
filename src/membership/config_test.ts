import assert from "node:assert/strict";
import {
  buildVsn,
  lanConfig,
  localConfig,
  MEMBERSHIP_PROFILES,
  type MembershipConfig,
  validateMembershipConfig,
  wanConfig,
} from "./config.ts";

Deno.test("lanConfig() has memberlist's DefaultLANConfig values", () => {
  assert.deepEqual(lanConfig(), {
    bindPort: 7946,
    protocolVersion: 2,
    delegateProtocolVersion: 0,
    delegateProtocolMin: 0,
    delegateProtocolMax: 0,
    tcpTimeout: 10_000,
    indirectChecks: 3,
    retransmitMult: 4,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    pushPullInterval: 30_000,
    probeInterval: 1_000,
    probeTimeout: 500,
    disableTcpPings: false,
    awarenessMaxMultiplier: 8,
    gossipInterval: 200,
    gossipNodes: 3,
    gossipToTheDeadTime: 30_000,
    gossipVerifyIncoming: true,
    gossipVerifyOutgoing: true,
    enableCompression: true,
    label: "",
    handoffQueueDepth: 1024,
    udpBufferSize: 1400,
    deadNodeReclaimTime: 0,
    requireNodeNames: false,
    queueCheckInterval: 30_000,
    // Not in memberlist (its table is unbounded): our cap on tracked members.
    maxMembers: 100_000,
  });
});

Deno.test("wanConfig() differs from LAN exactly where DefaultWANConfig does", () => {
  assert.deepEqual(wanConfig(), {
    ...lanConfig(),
    tcpTimeout: 30_000,
    suspicionMult: 6,
    pushPullInterval: 60_000,
    probeTimeout: 3_000,
    probeInterval: 5_000,
    gossipNodes: 4,
    gossipInterval: 500,
    gossipToTheDeadTime: 60_000,
  });
});

Deno.test("localConfig() differs from LAN exactly where DefaultLocalConfig does", () => {
  assert.deepEqual(localConfig(), {
    ...lanConfig(),
    tcpTimeout: 1_000,
    indirectChecks: 1,
    retransmitMult: 2,
    suspicionMult: 3,
    pushPullInterval: 15_000,
    probeTimeout: 200,
    probeInterval: 1_000,
    gossipInterval: 100,
    gossipToTheDeadTime: 15_000,
  });
});

Deno.test("presets apply overrides and return fresh objects", () => {
  const a = wanConfig({ gossipNodes: 9 });
  assert.equal(a.gossipNodes, 9);
  assert.equal(a.probeInterval, 5_000);
  a.probeInterval = 1;
  assert.equal(wanConfig().probeInterval, 5_000);
  assert.notEqual(lanConfig(), lanConfig());
});

Deno.test("MEMBERSHIP_PROFILES maps names to the presets", () => {
  assert.deepEqual(MEMBERSHIP_PROFILES.local(), localConfig());
  assert.deepEqual(MEMBERSHIP_PROFILES.lan(), lanConfig());
  assert.deepEqual(MEMBERSHIP_PROFILES.wan({ label: "x" }), wanConfig({ label: "x" }));
  assert.ok(Object.isFrozen(MEMBERSHIP_PROFILES));
});

Deno.test("validateMembershipConfig() accepts every preset", () => {
  for (const make of Object.values(MEMBERSHIP_PROFILES)) {
    const c = make();
    assert.equal(validateMembershipConfig(c), c);
  }
  validateMembershipConfig(lanConfig({ advertisePort: 8000, bindPort: 0 }));
  validateMembershipConfig(lanConfig({ pushPullInterval: 0, gossipInterval: 0, gossipNodes: 0 }));
});

Deno.test("validateMembershipConfig() names the field, the value and what is allowed", () => {
  const cases: [Partial<MembershipConfig>, RegExp][] = [
    [
      { probeTimeout: 1_000 },
      /probeTimeout must be a duration below probeInterval \(1000 ms\): received 1000/,
    ],
    [{ protocolVersion: 6 }, /protocolVersion must be an integer in \[1, 5\]: received 6/],
    [{ protocolVersion: 0 }, /protocolVersion .* received 0/],
    [{ retransmitMult: 0 }, /retransmitMult must be an integer in \[1, 1000\]: received 0/],
    [{ gossipNodes: 1.5 }, /gossipNodes must be an integer .*: received 1.5/],
    [{ probeInterval: 0 }, /probeInterval must be a finite duration in ms, > 0: received 0/],
    [{ pushPullInterval: -1 }, /pushPullInterval must be .*>= 0 \(0 disables\): received -1/],
    [{ gossipToTheDeadTime: NaN }, /gossipToTheDeadTime .* received NaN/],
    [{ tcpTimeout: Infinity }, /tcpTimeout .* received Infinity/],
    [{ udpBufferSize: 100 }, /udpBufferSize must be an integer in \[512, 65507\]: received 100/],
    [{ bindPort: 70_000 }, /bindPort .* received 70000/],
    [{ advertisePort: 0 }, /advertisePort must be an integer in \[1, 65535\]: received 0/],
    [{ label: "x".repeat(256) }, /label must be a string of at most 255 UTF-8 bytes/],
    [
      { delegateProtocolMin: 2, delegateProtocolMax: 1 },
      /delegateProtocolMax .* \[2, 255\]: received 1/,
    ],
    [
      { delegateProtocolMax: 3, delegateProtocolVersion: 4 },
      /delegateProtocolVersion .* \[0, 3\]: received 4/,
    ],
    [{ awarenessMaxMultiplier: 0 }, /awarenessMaxMultiplier .* received 0/],
    [{ handoffQueueDepth: 0 }, /handoffQueueDepth .* received 0/],
    [
      { enableCompression: "yes" as unknown as boolean },
      /enableCompression must be a boolean: received "yes"/,
    ],
  ];
  for (const [override, message] of cases) {
    assert.throws(() => validateMembershipConfig(lanConfig(override)), (e: unknown) => {
      assert.ok(e instanceof RangeError, `${JSON.stringify(override)} throws a RangeError`);
      assert.match(e.message, /^Invalid membership config: /);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("buildVsn() advertises [1, 5, pCur, dMin, dMax, dCur]", () => {
  assert.deepEqual(buildVsn(lanConfig()), Uint8Array.of(1, 5, 2, 0, 0, 0));
  const c = lanConfig({
    delegateProtocolMin: 2,
    delegateProtocolMax: 5,
    delegateProtocolVersion: 4,
  });
  assert.deepEqual(buildVsn(c), Uint8Array.of(1, 5, 2, 2, 5, 4));
});
