import assert from "node:assert/strict";
import { encode } from "npm:@msgpack/msgpack@3.1.3";
import type { ListedRecord } from "../store/mod.ts";
import { ReplicationCodec } from "./codec.ts";
import {
  type ClusterPurgeRequest,
  decodeListAnswer,
  decodeListRequest,
  decodePurgeAnswer,
  decodePurgeRequest,
  encodeListAnswer,
  encodeListRequest,
  encodePurgeAnswer,
  encodePurgeRequest,
  type ListRequest,
} from "./cluster_ops.ts";
import { PeerRequestError } from "./transport.ts";
import { ReplicatorCluster } from "./testing.ts";

const codec = new ReplicationCodec({ maxKeyBytes: 16, maxValueBytes: 64, maxMessageBytes: 4096 });

function refuses(decode: () => unknown, pattern: RegExp) {
  assert.throws(decode, (e) => e instanceof TypeError && pattern.test(e.message), String(pattern));
}

Deno.test("list messages round-trip (golden bytes) and keep answers within the message limit", () => {
  const request: ListRequest = { prefix: "user:", after: "user:a", limit: 3 };
  const body = encodeListRequest(codec, request);
  assert.deepEqual(body, encode([2, "user:", "user:a", 3]));
  assert.deepEqual(decodeListRequest(codec, body), request);
  const first = { prefix: "", limit: 1000 };
  assert.deepEqual(decodeListRequest(codec, encodeListRequest(codec, first)), first);

  const keys: ListedRecord[] = [
    { key: "user:b", expiresAt: 0 },
    { key: "user:c", expiresAt: 1_700_000_000_000, metadata: { plan: "pro", n: 1 } },
  ];
  const answer = encodeListAnswer(codec, { keys, more: true });
  assert.deepEqual(
    answer,
    encode([2, [["user:b", 0, null], ["user:c", 1_700_000_000_000, '{"plan":"pro","n":1}']], true]),
  );
  assert.deepEqual(decodeListAnswer(codec, answer, request), { keys, more: true });
  // Too many keys for one message: the answer stops early and says more follow.
  const many = Array.from({ length: 200 }, (_, i) => ({
    key: `user:${String(i).padStart(4, "0")}`,
    expiresAt: 0,
    metadata: { pad: "x".repeat(50) },
  }));
  const trimmed = encodeListAnswer(codec, { keys: many, more: false });
  assert.ok(trimmed.byteLength <= 4096);
  const page = decodeListAnswer(codec, trimmed, { prefix: "user:", limit: 1000 });
  assert.ok(page.keys.length > 0 && page.keys.length < 200 && page.more);
  assert.deepEqual(page.keys, many.slice(0, page.keys.length));
});

Deno.test("list messages refuse hostile input with a TypeError naming the field", () => {
  const req = (...m: unknown[]) => () => decodeListRequest(codec, encode(m));
  refuses(req(1, "", null, 3), /format must be 2..2/);
  refuses(req(2, "", null), /expected an array of 4/);
  refuses(req(2, 5, null, 3), /prefix must be text of 0..16 bytes/);
  refuses(req(2, "p".repeat(17), null, 3), /prefix must be text/);
  refuses(req(2, "", "", 3), /after must be text of 1..16 bytes/);
  refuses(req(2, "", null, 0), /limit must be an integer in 1..1000/);
  refuses(req(2, "", null, 1001), /limit must be an integer in 1..1000: received 1001/);
  refuses(req(2, "", null, 1.5), /limit must be an integer/);

  const request: ListRequest = { prefix: "p", after: "p1", limit: 2 };
  const ans = (...m: unknown[]) => () => decodeListAnswer(codec, encode(m), request);
  refuses(ans(2, [["p2", 0, null]], "yes"), /more must be a boolean/);
  refuses(ans(2, "x", false), /keys must be an array of at most 2/);
  refuses(ans(2, [["p2", 0, null], ["p3", 0, null], ["p4", 0, null]], false), /at most 2/);
  refuses(ans(2, [["p2", 0]], false), /keys\[0\] must be \[key, expiresAt, metadata\]/);
  refuses(ans(2, [["", 0, null]], false), /keys\[0\]\.key must be text of 1..16 bytes/);
  refuses(ans(2, [["q2", 0, null]], false), /keys\[0\]\.key must ascend after .* prefix/);
  refuses(ans(2, [["p1", 0, null]], false), /keys\[0\]\.key must ascend/);
  refuses(ans(2, [["p3", 0, null], ["p2", 0, null]], false), /keys\[1\]\.key must ascend/);
  refuses(ans(2, [["p2", -1, null]], false), /keys\[0\]\.expiresAt must be an integer/);
  refuses(ans(2, [["p2", 0, "[1]"]], false), /keys\[0\]\.metadata must be a JSON object/);
  refuses(ans(2, [["p2", 0, "x".repeat(1025)]], false), /metadata must be at most 1024 bytes/);
});

Deno.test("purge messages round-trip (golden bytes) and refuse hostile input", () => {
  const request: ClusterPurgeRequest = { tags: ["t1", "é"], keys: ["k"], all: false };
  const body = encodePurgeRequest(codec, request);
  assert.deepEqual(body, encode([2, ["t1", "é"], ["k"], false]));
  assert.deepEqual(decodePurgeRequest(codec, body), request);
  assert.deepEqual(encodePurgeAnswer(codec, 7), encode([2, 7]));
  assert.equal(decodePurgeAnswer(codec, encodePurgeAnswer(codec, 7)), 7);

  const req = (...m: unknown[]) => () => decodePurgeRequest(codec, encode(m));
  refuses(req(1, [], [], true), /format must be 2..2/);
  refuses(req(2, "t", [], false), /tags must be an array/);
  refuses(req(2, [""], [], false), /tags\[0\] must be text of 1..128 bytes/);
  refuses(req(2, ["ok", "t".repeat(129)], [], false), /tags\[1\] must be text of 1..128/);
  refuses(req(2, [], [3], false), /keys\[0\] must be text of 1..16 bytes/);
  refuses(req(2, [], ["k".repeat(17)], false), /keys\[0\] must be text/);
  refuses(req(2, [], [], 1), /all must be a boolean/);
  refuses(() => decodePurgeAnswer(codec, encode([2, -1])), /purged must be an integer/);
  refuses(() => decodePurgeAnswer(codec, encode([2])), /expected an array of 2/);
});

Deno.test("Replicator.listFrom and purgeOn ask a peer, which answers with its callbacks", async () => {
  const cluster = new ReplicatorCluster();
  const listed: unknown[] = [];
  const purged: ClusterPurgeRequest[] = [];
  const keys = ["a1", "a2", "a3", "b1"];
  const a = cluster.add("a");
  cluster.add("b", false, {
    onList: (prefix, after, limit) => {
      listed.push([prefix, after, limit]);
      const matching = keys.filter((k) =>
        k.startsWith(prefix) && (after === undefined || k > after)
      );
      return {
        keys: matching.slice(0, limit).map((key) => ({ key, expiresAt: 0, metadata: { key } })),
        more: matching.length > limit,
      };
    },
    onPurge: async (request) => {
      await Promise.resolve();
      purged.push(request);
      return request.all ? 4 : request.keys.length + request.tags.length;
    },
  });
  cluster.connect();
  const b = { name: "b", host: "mem", httpPort: 1 };
  try {
    const page1 = await a.replicator.listFrom(b, { prefix: "a", limit: 2 });
    assert.deepEqual(page1, {
      keys: [{ key: "a1", expiresAt: 0, metadata: { key: "a1" } }, {
        key: "a2",
        expiresAt: 0,
        metadata: { key: "a2" },
      }],
      more: true,
    });
    const page2 = await a.replicator.listFrom(b, { prefix: "a", after: "a2", limit: 2 });
    assert.deepEqual(page2.keys.map((k) => k.key), ["a3"]);
    assert.equal(page2.more, false);
    assert.deepEqual(listed, [["a", undefined, 2], ["a", "a2", 2]]);

    const request = { tags: ["t"], keys: ["a1", "b1"], all: false };
    assert.equal(await a.replicator.purgeOn(b, request), 3);
    assert.equal(await a.replicator.purgeOn(b, { tags: [], keys: [], all: true }), 4);
    assert.deepEqual(purged, [request, { tags: [], keys: [], all: true }]);
    assert.equal(cluster.net.delivered.list, 2);
    assert.equal(cluster.net.delivered.purge, 2);

    // A node given no callbacks does not serve them (501); a malformed request is a 400.
    await assert.rejects(
      cluster.nodes.get("b")!.replicator.listFrom({ name: "a", host: "mem", httpPort: 1 }, {
        prefix: "",
        limit: 1,
      }),
      (e) =>
        e instanceof PeerRequestError && e.status === 501 && /does not serve list/.test(e.message),
    );
    const malformedBefore = cluster.nodes.get("b")!.replicator.stats().malformed;
    await assert.rejects(
      cluster.nodes.get("b")!.replicator.purge(encode([2, [""], [], false])),
      /tags\[0\] must be text/,
    );
    assert.equal(purged.length, 2, "nothing purged");
    assert.equal(cluster.nodes.get("b")!.replicator.stats().malformed, malformedBefore + 1);
  } finally {
    cluster.close();
  }
});
