import assert from "node:assert/strict";
import { bytesToIp, ipToBytes, sameIp } from "./_ip.ts";

Deno.test("ipToBytes parses IPv4 and IPv6 literals and rejects the rest", () => {
  assert.deepEqual(ipToBytes("10.0.0.1"), Uint8Array.of(10, 0, 0, 1));
  assert.deepEqual(ipToBytes("::1"), Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1));
  assert.deepEqual(
    ipToBytes("[::ffff:10.0.0.1]"),
    Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1),
  );
  assert.deepEqual(ipToBytes("fe80::1%eth0")?.slice(0, 2), Uint8Array.of(0xfe, 0x80));
  for (const bad of ["", "host", "1.2.3", "1.2.3.256", "1::2::3", "1:2:3:4:5:6:7:8:9", "::g"]) {
    assert.equal(ipToBytes(bad), undefined, bad);
  }
});

Deno.test("bytesToIp formats like Go's net.IP.String", () => {
  assert.equal(bytesToIp(Uint8Array.of(192, 168, 1, 10)), "192.168.1.10");
  assert.equal(bytesToIp(ipToBytes("::ffff:10.0.0.1")!), "10.0.0.1");
  assert.equal(bytesToIp(ipToBytes("2001:db8:0:0:1:0:0:1")!), "2001:db8::1:0:0:1");
  assert.equal(bytesToIp(ipToBytes("::")!), "::");
  assert.equal(bytesToIp(Uint8Array.of(1, 2, 3)), undefined);
});

Deno.test("sameIp treats 4-byte and IPv4-mapped forms as one address", () => {
  assert.ok(sameIp(ipToBytes("10.0.0.1")!, ipToBytes("::ffff:10.0.0.1")!));
  assert.ok(!sameIp(ipToBytes("10.0.0.1")!, ipToBytes("10.0.0.2")!));
  assert.ok(sameIp(ipToBytes("fe80::1")!, ipToBytes("fe80:0::1")!));
  assert.ok(!sameIp(ipToBytes("::1")!, ipToBytes("0.0.0.1")!));
});
