import assert from "node:assert/strict";
import { queryOf } from "./query.ts";

Deno.test("queryOf reads the query of any URL string, parsable or not", () => {
  assert.equal(queryOf("http://h:1/a?ttl=5&x=1").get("ttl"), "5");
  assert.equal(queryOf("http://h:1/a?token=a%2Bb#frag=1").get("token"), "a+b");
  assert.equal(queryOf("http://h:1/a#x?ttl=5").get("ttl"), null);
  assert.equal(queryOf("http://h:1/a").get("ttl"), null);
  assert.equal(queryOf("http://h:1/a?x=1?&ttl=2").get("ttl"), "2");
  assert.equal(queryOf("http://a b: c/dashboard/state?token=t").get("token"), "t");
  assert.throws(() => new URL("http://a b: c/dashboard/state?token=t"), TypeError);
});
