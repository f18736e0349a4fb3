import assert from "node:assert/strict";
import { encode } from "npm:@msgpack/msgpack@3.1.3";
import {
  type ClusterPurgeRequest,
  HttpReplicationTransport,
  MSGPACK_CONTENT_TYPE,
  PeerAuth,
  PeerRequestError,
  Replicator,
  type ReplicatorOptions,
  SIGNATURE_HEADER,
  StreamReplicationTransport,
} from "../replication/mod.ts";
import type { CacheService } from "../service/mod.ts";
import { TtlStore } from "../store/mod.ts";
import { systemClock } from "../util/clock.ts";
import { HybridLogicalClock } from "../util/hlc.ts";
import { createHandler } from "./handler.ts";

const LIMITS = { maxKeyBytes: 64, maxValueBytes: 1024 };
const gossipKey = (fill: number) => new Uint8Array(32).fill(fill);
const peerAuth = (fill: number) => PeerAuth.fromKeys([gossipKey(fill)], { clock: systemClock });

function replicator(
  name: string,
  transport: HttpReplicationTransport | StreamReplicationTransport,
  ops: Pick<ReplicatorOptions, "onList" | "onPurge"> = {},
) {
  return new Replicator({
    name,
    store: new TtlStore(),
    hlc: new HybridLogicalClock(systemClock),
    transport,
    limits: LIMITS,
    initialSync: false,
    ...ops,
  });
}

/** A node `b` whose real Replicator serves list and purge with fakes, behind the HTTP edge. */
function serveB(auth?: PeerAuth, ops?: Pick<ReplicatorOptions, "onList" | "onPurge">) {
  const purged: ClusterPurgeRequest[] = [];
  const b = replicator(
    "b",
    new HttpReplicationTransport({ clock: systemClock }),
    ops ?? {
      onList: (prefix, after, limit) => ({
        keys: [{ key: `${prefix}${after ?? ""}x`, expiresAt: 5, metadata: { limit } }],
        more: false,
      }),
      onPurge: (request) => {
        purged.push(request);
        return Promise.resolve(request.keys.length);
      },
    },
  );
  const service = { replication: b, limits: LIMITS } as unknown as CacheService;
  const streams = new Set<WebSocket>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHandler(service, { streams, peerAuth: auth }),
  );
  const peer = { name: "b", host: "127.0.0.1", httpPort: server.addr.port };
  return {
    peer,
    purged,
    url: (path: string) => `http://127.0.0.1:${server.addr.port}${path}`,
    async close() {
      b.close();
      for (const s of streams) s.close();
      await server.shutdown();
    },
  };
}

Deno.test("POST /internal/list and /internal/purge: signed peers list and purge, over both channels", async () => {
  const s = serveB(await peerAuth(1));
  const auth = await peerAuth(1);
  const http = new HttpReplicationTransport({ clock: systemClock, peerAuth: auth });
  const stream = new StreamReplicationTransport({
    inner: http,
    clock: systemClock,
    peerAuth: auth,
  });
  const a = replicator("a", stream);
  try {
    assert.deepEqual(await a.listFrom(s.peer, { prefix: "p", after: "p1", limit: 9 }), {
      keys: [{ key: "pp1x", expiresAt: 5, metadata: { limit: 9 } }],
      more: false,
    });
    const request = { tags: ["t"], keys: ["k1", "k2"], all: false };
    assert.equal(await a.purgeOn(s.peer, request), 2);
    assert.deepEqual(s.purged, [request]);
  } finally {
    a.close();
    await s.close();
  }
});

Deno.test("POST /internal/purge: unsigned, wrongly signed or replayed requests get 401 and purge nothing", async () => {
  const s = serveB(await peerAuth(1));
  const body = encode([2, [], ["k"], false]);
  const post = (headers: Record<string, string>) =>
    fetch(s.url("/internal/purge"), {
      method: "POST",
      body,
      headers: { "content-type": MSGPACK_CONTENT_TYPE, ...headers },
    });
  try {
    for (const fill of [undefined, 9]) {
      const t = new HttpReplicationTransport({
        clock: systemClock,
        peerAuth: fill === undefined ? undefined : await peerAuth(fill),
      });
      await assert.rejects(
        replicator("a", t).purgeOn(s.peer, { tags: [], keys: ["k"], all: true }),
        (e) => e instanceof PeerRequestError && e.status === 401,
      );
      t.close();
    }
    const signed = (await peerAuth(1)).signRequest("POST", "/internal/purge", body)!;
    const first = await post({ [SIGNATURE_HEADER]: signed.header });
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const replay = await post({ [SIGNATURE_HEADER]: signed.header });
    assert.equal(replay.status, 401);
    assert.match((await replay.json()).error, /Replayed/);
    assert.equal(s.purged.length, 1, "purged once");
  } finally {
    await s.close();
  }
});

Deno.test("POST /internal/list and /internal/purge: malformed → 400, not served → 501", async () => {
  const s = serveB();
  const bare = serveB(undefined, {});
  const post = async (url: string, body: Uint8Array) => {
    const res = await fetch(url, {
      method: "POST",
      body: body as BodyInit,
      headers: { "content-type": MSGPACK_CONTENT_TYPE },
    });
    return [res.status, (await res.json()).error];
  };
  try {
    const [listStatus, listError] = await post(s.url("/internal/list"), encode([2, "", null, 0]));
    assert.equal(listStatus, 400);
    assert.match(listError, /limit must be an integer in 1..1000/);
    const [status, error] = await post(s.url("/internal/purge"), encode([2, [""], [], false]));
    assert.equal(status, 400);
    assert.match(error, /tags\[0\] must be text/);
    assert.equal(s.purged.length, 0);
    const [notServed, why] = await post(bare.url("/internal/purge"), encode([2, [], [], true]));
    assert.equal(notServed, 501);
    assert.match(why, /does not serve purge/);
    const t = new HttpReplicationTransport({ clock: systemClock });
    await assert.rejects(
      replicator("a", t).listFrom(bare.peer, { prefix: "", limit: 1 }),
      (e) => e instanceof PeerRequestError && e.status === 501 && !e.retryable,
    );
    t.close();
  } finally {
    await s.close();
    await bare.close();
  }
});
