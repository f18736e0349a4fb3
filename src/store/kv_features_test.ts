import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { hlcFromParts, type Version } from "../util/hlc.ts";
import { entrySize } from "./entry_size.ts";
import { TtlStore } from "./ttl_store.ts";
import type { StoreChange } from "./types.ts";

const T0 = 1_700_000_000_000;

function v(ms: number, node = "a"): Version {
  return { hlc: hlcFromParts(T0 + ms, 0), node };
}

function setup() {
  const clock = new VirtualClock(T0);
  return { clock, store: new TtlStore({ clock }) };
}

Deno.test("TtlStore keeps metadata and tags with a live entry and counts their bytes", () => {
  const { store } = setup();
  const metadata = { owner: "ops", n: 1 };
  store.apply("k", { value: "v", expiresAt: 0, version: v(0), metadata, tags: ["t1", "t2"] });
  assert.deepEqual(store.get("k"), {
    key: "k",
    value: "v",
    expiresAt: 0,
    version: v(0),
    metadata,
    tags: ["t1", "t2"],
  });
  assert.ok(store.bytes > entrySize("k", "v"));
  store.apply("k", { value: "w", expiresAt: 0, version: v(1) });
  assert.deepEqual(store.get("k"), { key: "k", value: "w", expiresAt: 0, version: v(1) });
  assert.equal(store.bytes, entrySize("k", "w"));
});

Deno.test("TtlStore.keysWithTags follows overwrites, deletes and expiry of tagged keys", () => {
  const { clock, store } = setup();
  const put = (key: string, ms: number, tags?: string[], expiresAt = 0) =>
    store.apply(key, { value: "v", expiresAt, version: v(ms), ...(tags ? { tags } : {}) });
  put("a", 0, ["x"]);
  put("b", 0, ["x", "y"]);
  put("c", 0, ["y"], T0 + 100);
  assert.deepEqual(store.keysWithTags(["x"]).sort(), ["a", "b"]);
  assert.deepEqual(store.keysWithTags(["x", "y"]).sort(), ["a", "b", "c"]);
  put("a", 1); // retagged: no tags
  store.delete("b", v(1));
  clock.advanceTo(T0 + 100);
  store.sweep();
  assert.deepEqual(store.keysWithTags(["x", "y"]), []);
});

Deno.test("TtlStore.list gives live cluster keys by prefix in order, after a cursor, up to a limit", () => {
  const { clock, store } = setup();
  for (const k of ["b2", "a1", "b1", "b3", "c1"]) {
    store.apply(k, { value: "v", expiresAt: 0, version: v(0), metadata: { k } });
  }
  store.apply("b0", { value: "v", expiresAt: 0, version: v(0), local: true });
  store.apply("b4", { value: "v", expiresAt: T0 + 10, version: v(0) });
  store.delete("b3", v(1));
  clock.advanceTo(T0 + 10);
  const names = (o: Parameters<TtlStore["list"]>[0]) => store.list(o).map((r) => r.key);
  assert.deepEqual(names({ prefix: "b", limit: 10 }), ["b1", "b2"]);
  assert.deepEqual(names({ limit: 2 }), ["a1", "b1"]);
  assert.deepEqual(names({ after: "b1", limit: 10 }), ["b2", "c1"]);
  assert.deepEqual(store.list({ prefix: "c", limit: 1 }), [
    { key: "c1", expiresAt: 0, metadata: { k: "c1" } },
  ]);
});

Deno.test("TtlStore.onChange reports puts, deletes and expiries until stopped", () => {
  const { clock, store } = setup();
  const seen: StoreChange[] = [];
  const stop = store.onChange((c) => seen.push(c));
  store.apply("a", { value: "v", expiresAt: T0 + 5, version: v(0) });
  store.delete("b", v(1));
  clock.advanceTo(T0 + 5);
  assert.equal(store.get("a"), undefined);
  stop();
  store.apply("c", { value: "v", expiresAt: 0, version: v(2) });
  assert.deepEqual(seen.map((c) => [c.kind, c.key]), [["put", "a"], ["delete", "b"], [
    "expire",
    "a",
  ]]);
  assert.deepEqual(seen[0].version, v(0));
});
