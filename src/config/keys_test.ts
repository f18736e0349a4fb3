// The gossip key settings decoded into bytes (what the node's keyring is built from).
import assert from "node:assert/strict";
import { gossipKeysOf } from "./keys.ts";

const K1 = Uint8Array.from({ length: 16 }, (_, i) => i);
const K2 = new Uint8Array(24).fill(2);
const K3 = new Uint8Array(32).fill(3);
const b64 = (b: Uint8Array) => btoa(String.fromCharCode(...b));

Deno.test("gossipKeysOf() decodes the keys of the base64 settings", () => {
  assert.deepEqual(gossipKeysOf({}), []);
  assert.deepEqual(gossipKeysOf({ secretKey: "", secretKeys: [] }), []);
  assert.deepEqual(gossipKeysOf({ secretKey: b64(K1) }), [K1]);
  assert.deepEqual(gossipKeysOf({ secretKeys: [b64(K2), ` ${b64(K3)} `] }), [K2, K3]);
  // secretKey is the primary when both are given (as memberlist's SecretKey with a Keyring).
  assert.deepEqual(gossipKeysOf({ secretKey: b64(K1), secretKeys: [b64(K2), b64(K1)] }), [K1, K2]);
});

Deno.test("gossipKeysOf() names the bad key and its length, never its value", () => {
  const short = b64(new Uint8Array(20));
  assert.throws(
    () => gossipKeysOf({ secretKeys: [b64(K1), short] }),
    (e: Error) =>
      e instanceof RangeError &&
      e.message ===
        "Cannot build keyring: secretKeys[1] must be base64 of 16, 24 or 32 bytes: received 20 bytes" &&
      !e.message.includes(short),
  );
  assert.throws(
    () => gossipKeysOf({ secretKey: b64(new Uint8Array(33)) }),
    /secretKey must .* received 33 bytes/,
  );
  assert.throws(
    () => gossipKeysOf({ secretKeys: [""] }),
    /secretKeys\[0\] .* received 0 bytes/,
  );
  assert.throws(
    () => gossipKeysOf({ secretKeys: ["not base64!"] }, { secretKeys: "SECRET_KEYS" }),
    /^RangeError: Cannot build keyring: SECRET_KEYS\[0\] must be base64: received invalid base64$/,
  );
  assert.throws(
    () => gossipKeysOf({ secretKey: "AAAA" }, { secretKey: "SECRET_KEY" }),
    /SECRET_KEY must be base64 of 16, 24 or 32 bytes: received 3 bytes/,
  );
});
