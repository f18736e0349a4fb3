import assert from "node:assert/strict";
import { History, judgeKey, type Operation } from "./history.ts";

let nextId = 1;
function op(
  kind: "put" | "delete",
  start: number,
  end: number,
  outcome: Operation["outcome"],
  extra: Partial<Operation> = {},
): Operation {
  const id = nextId++;
  return {
    id,
    key: "k",
    kind,
    ...(kind === "put" ? { value: `v${id}` } : {}),
    start,
    end,
    outcome,
    status: outcome === "acked" ? 200 : 504,
    ...extra,
  };
}
const at = (value: string | undefined, time = 1_000_000) => ({ value, start: time, end: time });

Deno.test("judgeKey accepts the last acknowledged write and rejects an older value", () => {
  const a = op("put", 0, 10, "acked");
  const b = op("put", 20, 30, "acked");
  assert.equal(judgeKey("k", [a, b], at(b.value)), undefined);
  const v = judgeKey("k", [a, b], at(a.value));
  assert.equal(v?.lost, b);
  assert.equal(judgeKey("k", [a, b], at(undefined))?.lost, b);
});

Deno.test("judgeKey lets concurrent and unacknowledged later operations win or lose", () => {
  const a = op("put", 0, 10, "acked");
  const b = op("put", 5, 15, "acked"); // concurrent with a: either may win
  const c = op("delete", 20, 2020, "unknown"); // 504: may or may not have been applied
  for (const value of [a.value, b.value, undefined]) {
    assert.equal(judgeKey("k", [a, b, c], at(value)), undefined, String(value));
  }
  const d = op("put", 3000, 3010, "acked");
  assert.equal(judgeKey("k", [a, b, c, d], at(undefined))?.lost, d);
  assert.equal(judgeKey("k", [a, b, c, d], at(d.value)), undefined);
});

Deno.test("judgeKey: a request the client gave up on may still win over later ones", () => {
  const a = op("put", 0, 10, "acked");
  const late = op("put", 20, 8020, "unknown", { mayApplyLater: true, status: "TimeoutError" });
  const b = op("put", 9000, 9010, "acked");
  assert.equal(judgeKey("k", [a, late, b], at(late.value)), undefined);
  assert.equal(judgeKey("k", [a, late, b], at(b.value)), undefined);
  assert.equal(judgeKey("k", [a, late, b], at(a.value))?.lost, b);
});

Deno.test("judgeKey: a key never acknowledged may be absent; refused operations explain nothing", () => {
  const a = op("put", 0, 10, "unknown");
  const r = op("put", 20, 30, "refused");
  assert.equal(judgeKey("k", [a, r], at(undefined)), undefined);
  assert.equal(judgeKey("k", [a, r], at(a.value)), undefined);
  assert.ok(judgeKey("k", [a, r], at(r.value)));
});

Deno.test("judgeKey: TTL writes may be absent only once they can have expired", () => {
  const a = op("put", 0, 10, "acked");
  const t = op("put", 100, 110, "acked", { ttlMs: 1000 });
  assert.equal(judgeKey("k", [a, t], at(t.value, 500)), undefined);
  assert.equal(judgeKey("k", [a, t], at(undefined, 500))?.lost, t);
  assert.equal(judgeKey("k", [a, t], at(undefined, 2000)), undefined);
  assert.equal(judgeKey("k", [a, t], at(t.value, 2000))?.lost, t);
  // The value it overwrote must not come back after it expired.
  assert.equal(judgeKey("k", [a, t], at(a.value, 2000))?.lost, t);
});

Deno.test("History groups operations by key and counts outcomes", () => {
  const h = new History();
  h.add({ ...op("put", 0, 1, "acked"), key: "x" });
  h.add({ ...op("delete", 0, 1, "unknown"), key: "x" });
  h.add({ ...op("put", 0, 1, "refused"), key: "y" });
  assert.deepEqual(h.keys(), ["x", "y"]);
  assert.equal(h.of("x").length, 2);
  assert.deepEqual(h.counts(), {
    put_acked: 1,
    put_unknown: 0,
    put_refused: 1,
    delete_acked: 0,
    delete_unknown: 1,
    delete_refused: 0,
  });
  assert.equal(h.nextId(), 1);
});
