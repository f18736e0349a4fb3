import assert from "node:assert/strict";
import { describeConfig } from "./describe.ts";

Deno.test("describeConfig flattens nested settings and masks secrets", () => {
  const d = describeConfig({
    httpPort: 8000,
    peers: ["a:1", "b:2"],
    gossip: { probeInterval: 1000 },
    secretKey: "c2VjcmV0c2VjcmV0c2VjcmV0",
    secretKeys: ["abc", "defg"],
    authToken: "hunter2",
    maxKeyBytes: 1024,
  });
  assert.deepEqual(d, {
    httpPort: 8000,
    peers: "a:1,b:2",
    "gossip.probeInterval": 1000,
    secretKey: "***(24)",
    secretKeys: "***(3),***(4)",
    authToken: "***(7)",
    maxKeyBytes: 1024,
  });
  assert.ok(!JSON.stringify(d).includes("hunter2"));
});
