import assert from "node:assert/strict";
import { base36, etagOf, parseEtag } from "./etag.ts";

Deno.test("base36 writes what toString(36) writes, at the edges and for HLCs", () => {
  const half = 36 ** 5;
  const edges = [0, 1, 35, 36, half - 1, half, half + 1, 36 ** 10, 2 ** 53 - 1];
  const hlcs = Array.from({ length: 1000 }, (_, i) => 1_740_800_000_000_000 + i * 65_537);
  for (const n of [...edges, ...hlcs]) assert.equal(base36(n), n.toString(36), String(n));
});

Deno.test("etagOf and parseEtag round-trip a version", () => {
  const version = { hlc: 1_740_800_000_065_537, node: "node a/1" };
  const tag = etagOf(version);
  assert.equal(tag, `"${version.hlc.toString(36)}-node%20a%2F1"`);
  assert.deepEqual(parseEtag(tag), version);
  assert.equal(etagOf(version), tag, "the cached node name gives the same tag");
});
