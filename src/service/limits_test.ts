import assert from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import { checkEntry, checkKey } from "./limits.ts";

Deno.test("checkKey and checkEntry count UTF-8 bytes exactly at the limit", () => {
  const refused = (f: () => void, status: number, text: string) =>
    assert.throws(f, (e) =>
      e instanceof InvalidInputError && e.status === status &&
      e.message.includes(text));
  checkKey("abcdefghij", 10);
  checkKey("ééééé", 10);
  refused(() => checkKey("abcdefghijk", 10), 414, "11 bytes");
  refused(() => checkKey("éééééé", 10), 414, "12 bytes");
  refused(() => checkKey("😀😀😀", 10), 414, "12 bytes");
  refused(() => checkKey("", 10), 400, "empty");
  checkEntry("ééééé", {}, 10);
  checkEntry(new Uint8Array(10), {}, 10);
  refused(() => checkEntry("éééééé", {}, 10), 413, "12 bytes");
  refused(() => checkEntry(new Uint8Array(11), {}, 10), 413, "11 bytes");
});
