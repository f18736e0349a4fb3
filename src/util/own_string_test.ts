import assert from "node:assert/strict";
import { ownString } from "./own_string.ts";

Deno.test("ownString keeps every string exactly, lone surrogates and escapes included", () => {
  const url = "http://127.0.0.1:8000/cache/";
  for (
    const key of [
      "short",
      "bench-key-000123",
      'with %2F percent and \\ backslash " quote',
      "line\nbreak\ttab\u0000nul",
      "lone \ud800 surrogate and pair \ud83d\ude00",
      "é".repeat(300),
    ]
  ) {
    const sliced = (url + key).slice(url.length);
    assert.equal(ownString(sliced), key);
    assert.equal(ownString(sliced).length, key.length);
  }
});
