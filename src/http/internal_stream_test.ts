import assert from "node:assert/strict";
import {
  HttpReplicationTransport,
  PeerAuth,
  PeerRequestError,
  SIGNATURE_HEADER,
  StreamReplicationTransport,
} from "../replication/mod.ts";
import { encodeBatchFrame } from "../replication/stream_frames.ts";
import { WsClient } from "../replication/ws_client.ts";
import type { ReplicationTransport } from "../replication/mod.ts";
import { systemClock } from "../util/clock.ts";
import type { CacheService, ReplicationEndpoints } from "../service/mod.ts";
import { createHandler } from "./handler.ts";
import type { StreamLimits } from "./internal_stream.ts";

const noHttp: ReplicationTransport = {
  request: () => Promise.reject(new Error("not used")),
  close: () => {},
};

/** A server whose replication endpoints echo the batch's first byte, or refuse a 0xff. */
function serve(
  endpoints: Partial<ReplicationEndpoints> = {},
  peerAuth?: PeerAuth,
  streamLimits?: StreamLimits,
) {
  const received: Uint8Array[] = [];
  const replication: ReplicationEndpoints = {
    maxMessageBytes: 1024,
    receiveBatch: (body) => {
      if (body[0] === 0xff) throw new TypeError("Cannot decode replicate batch: bad");
      received.push(body.slice());
      return body.subarray(0, 1);
    },
    answerSync: () => new Uint8Array(),
    read: () => new Uint8Array(),
    list: () => new Uint8Array(),
    purge: () => Promise.resolve(new Uint8Array()),
    ...endpoints,
  } as ReplicationEndpoints;
  const service = {
    replication,
    limits: { maxKeyBytes: 10, maxValueBytes: 10 },
  } as unknown as CacheService;
  const streams = new Set<WebSocket>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHandler(service, { streams, peerAuth, streamLimits }),
  );
  const peer = { name: "p", host: "127.0.0.1", httpPort: server.addr.port };
  return {
    received,
    streams,
    peer,
    async close() {
      for (const s of streams) s.close();
      await server.shutdown();
    },
  };
}

Deno.test("StreamReplicationTransport carries batches over one socket and matches answers", async () => {
  const s = serve();
  const t = new StreamReplicationTransport({ inner: noHttp, clock: systemClock });
  try {
    const answers = await Promise.all(
      [1, 2, 3].map((n) => t.request(s.peer, "replicate", new Uint8Array([n, 9]), 1000)),
    );
    assert.deepEqual(answers.map((a) => [...a]), [[1], [2], [3]]);
    assert.equal(s.received.length, 3);
    assert.equal(s.streams.size, 1, "one socket for every batch");
    await assert.rejects(
      t.request(s.peer, "replicate", new Uint8Array([0xff]), 1000),
      (e) => e instanceof PeerRequestError && e.status === 400 && !e.retryable,
    );
    assert.deepEqual([...await t.request(s.peer, "replicate", new Uint8Array([4]), 1000)], [4]);
  } finally {
    t.close();
    await s.close();
  }
});

Deno.test("StreamReplicationTransport carries reads and batches on one socket, each to its endpoint", async () => {
  const s = serve({ read: (body) => new Uint8Array([0xaa, ...body]) });
  const t = new StreamReplicationTransport({ inner: noHttp, clock: systemClock });
  try {
    const [read, batch] = await Promise.all([
      t.request(s.peer, "read", new Uint8Array([5]), 1000),
      t.request(s.peer, "replicate", new Uint8Array([6]), 1000),
    ]);
    assert.deepEqual([...read], [0xaa, 5]);
    assert.deepEqual([...batch], [6]);
    assert.equal(s.received.length, 1, "the read did not reach receiveBatch");
    assert.equal(s.streams.size, 1);
  } finally {
    t.close();
    await s.close();
  }
});

Deno.test("StreamReplicationTransport fails batches in flight when the socket drops, then reconnects", async () => {
  const s = serve();
  const t = new StreamReplicationTransport({ inner: noHttp, clock: systemClock });
  try {
    await t.request(s.peer, "replicate", new Uint8Array([1]), 1000);
    const tooBig = t.request(s.peer, "replicate", new Uint8Array(2000), 1000);
    await assert.rejects(tooBig, (e) => e instanceof PeerRequestError && e.retryable);
    assert.deepEqual([...await t.request(s.peer, "replicate", new Uint8Array([5]), 1000)], [5]);
  } finally {
    t.close();
    await s.close();
  }
});

Deno.test("StreamReplicationTransport gives up on a peer that does not answer in time", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = () => {}; // never answers
    return response;
  });
  const t = new StreamReplicationTransport({ inner: noHttp, clock: systemClock });
  try {
    const peer = { name: "mute", host: "127.0.0.1", httpPort: server.addr.port };
    await assert.rejects(
      t.request(peer, "replicate", new Uint8Array([1]), 100),
      /no answer from mute within 100 ms/,
    );
  } finally {
    t.close();
    await server.shutdown();
  }
});

Deno.test("StreamReplicationTransport fails a batch whose socket never opens, without an unhandled rejection", async () => {
  // Like a SIGSTOPped peer: the kernel accepts the connection, nobody answers the upgrade. The
  // deadline used to reject the batch's promise while nothing awaited it yet, which ended the
  // process with "Uncaught (in promise) PeerRequestError" (found by `deno task chaos`).
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) accepted.push(conn);
  })();
  const t = new StreamReplicationTransport({ inner: noHttp, clock: systemClock });
  try {
    const peer = { name: "stopped", host: "127.0.0.1", httpPort: listener.addr.port };
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        t.request(peer, "replicate", new Uint8Array([1]), 100),
        (e) =>
          e instanceof PeerRequestError && e.retryable && /no answer from stopped/.test(e.message),
      );
    }
    // Let a macrotask turn pass: an unhandled rejection would surface here and fail the test.
    await new Promise((r) => setTimeout(r, 20));
  } finally {
    t.close();
    listener.close();
    for (const conn of accepted) conn.close();
    await accepting;
  }
});

Deno.test("the replication stream refuses browser origins and plain requests", async () => {
  const s = serve();
  try {
    const url = `http://127.0.0.1:${s.peer.httpPort}/internal/stream`;
    const plain = await fetch(url);
    assert.equal(plain.status, 426);
    await plain.body?.cancel();
    const browser = await fetch(url, {
      headers: {
        origin: "https://evil.example",
        upgrade: "websocket",
        connection: "upgrade",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
        "sec-websocket-version": "13",
      },
    });
    assert.equal(browser.status, 403);
    await browser.body?.cancel();
  } finally {
    await s.close();
  }
});

Deno.test("the replication stream answers 4xx, not 500, to a broken WebSocket upgrade", async () => {
  const s = serve();
  try {
    const url = `http://127.0.0.1:${s.peer.httpPort}/internal/stream`;
    const upgrade = { upgrade: "websocket", connection: "Upgrade" };
    const cases: [Record<string, string>, number][] = [
      [upgrade, 426],
      [{
        ...upgrade,
        "sec-websocket-version": "99",
        "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      }, 426],
      [{ ...upgrade, "sec-websocket-version": "13" }, 400],
      [{ ...upgrade, "sec-websocket-version": "13", "sec-websocket-key": "x" }, 400],
    ];
    for (const [headers, status] of cases) {
      const res = await fetch(url, { headers });
      await res.body?.cancel();
      assert.equal(res.status, status, JSON.stringify(headers));
    }
    assert.equal(s.streams.size, 0);
  } finally {
    await s.close();
  }
});

const gossipKey = (fill: number) => new Uint8Array(32).fill(fill);
const peerAuth = (...fills: number[]) =>
  PeerAuth.fromKeys(fills.map(gossipKey), { clock: systemClock });

Deno.test("internal routes with a gossip key: signed peers replicate over both channels, during rotation too", async () => {
  const s = serve({ answerSync: (body) => body.subarray(0, 2) }, await peerAuth(1, 2));
  // The sender already uses the next key (2) as primary; the receiver holds it as a secondary.
  const auth = await peerAuth(2, 1);
  const http = new HttpReplicationTransport({ clock: systemClock, peerAuth: auth });
  const ws = new StreamReplicationTransport({ inner: http, clock: systemClock, peerAuth: auth });
  try {
    assert.deepEqual([...await http.request(s.peer, "replicate", Uint8Array.of(1, 2), 1000)], [1]);
    assert.deepEqual([...await ws.request(s.peer, "replicate", Uint8Array.of(3, 4), 1000)], [3]);
    assert.deepEqual([...await ws.request(s.peer, "replicate", Uint8Array.of(5), 1000)], [5]);
    assert.deepEqual([...await ws.request(s.peer, "sync", Uint8Array.of(6, 7, 8), 1000)], [6, 7]);
    assert.deepEqual(s.received.map((b) => b[0]), [1, 3, 5]);
  } finally {
    ws.close();
    await s.close();
  }
});

Deno.test("internal routes with a gossip key: no key or a wrong key gets 401 and applies nothing", async () => {
  const s = serve({}, await peerAuth(1));
  const unsigned = new HttpReplicationTransport({ clock: systemClock });
  const wrong = new HttpReplicationTransport({ clock: systemClock, peerAuth: await peerAuth(9) });
  const wrongStream = new StreamReplicationTransport({
    inner: wrong,
    clock: systemClock,
    peerAuth: await peerAuth(9),
  });
  const bareStream = new StreamReplicationTransport({ inner: unsigned, clock: systemClock });
  try {
    for (const t of [unsigned, wrong]) {
      for (const route of ["replicate", "sync"] as const) {
        await assert.rejects(
          t.request(s.peer, route, Uint8Array.of(1), 1000),
          (e) => e instanceof PeerRequestError && e.status === 401 && !e.retryable,
        );
      }
    }
    for (const t of [wrongStream, bareStream]) {
      await assert.rejects(
        t.request(s.peer, "replicate", Uint8Array.of(1), 1000),
        (e) => e instanceof PeerRequestError && /Cannot open stream/.test(e.message),
      );
    }
    // A valid handshake, then frames without the socket's tag: the socket is closed unapplied.
    const auth = await peerAuth(1);
    const signed = auth.signRequest("GET", "/internal/stream")!;
    const closed = Promise.withResolvers<string>();
    const client = await WsClient.connect(
      `ws://127.0.0.1:${s.peer.httpPort}/internal/stream`,
      { onMessage: () => closed.resolve("answered"), onClose: (why) => closed.resolve(why) },
      { headers: { [SIGNATURE_HEADER]: signed.header } },
    );
    assert.match(client.handshakeHeaders.get(SIGNATURE_HEADER) ?? "", /^v1 /);
    client.send(encodeBatchFrame(1, Uint8Array.of(1)));
    assert.equal(await closed.promise, "peer sent close");
    assert.equal(s.received.length, 0);
  } finally {
    wrongStream.close();
    bareStream.close();
    await s.close();
  }
});

Deno.test("HttpReplicationTransport refuses an answer that is not signed by a key of its ring", async () => {
  // A server without the key (or an impostor) answers 200 unsigned.
  const s = serve();
  const t = new HttpReplicationTransport({ clock: systemClock, peerAuth: await peerAuth(1) });
  try {
    await assert.rejects(
      t.request(s.peer, "replicate", Uint8Array.of(1), 1000),
      (e) =>
        e instanceof PeerRequestError &&
        /not signed by a key of this node: no signature/.test(e.message),
    );
  } finally {
    t.close();
    await s.close();
  }
});

Deno.test("the replication stream refuses upgrades beyond maxStreams with 503", async () => {
  const stats = { refused: 0, closedUnread: 0 };
  const s = serve({}, undefined, { maxStreams: 1, stats });
  const first = new StreamReplicationTransport({ inner: noHttp, clock: systemClock });
  const second = new StreamReplicationTransport({ inner: noHttp, clock: systemClock });
  try {
    assert.deepEqual([...await first.request(s.peer, "replicate", Uint8Array.of(1), 1000)], [1]);
    await assert.rejects(
      second.request(s.peer, "replicate", Uint8Array.of(2), 1000),
      (e) => e instanceof PeerRequestError && e.retryable,
    );
    assert.deepEqual(stats, { refused: 1, closedUnread: 0 });
    assert.deepEqual([...await first.request(s.peer, "replicate", Uint8Array.of(3), 1000)], [3]);
    assert.deepEqual(s.received.map((b) => b[0]), [1, 3]);
  } finally {
    first.close();
    second.close();
    await s.close();
  }
});

Deno.test("StreamReplicationTransport fails a batch whose socket is still opening at its deadline and abandons the attempt", async () => {
  // A peer that accepts connections and never answers the handshake (a busy or hung node).
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) held.push(conn);
  })();
  const peer = { name: "hung", host: "127.0.0.1", httpPort: listener.addr.port };
  const t = new StreamReplicationTransport({ inner: noHttp, clock: systemClock });
  try {
    await assert.rejects(
      t.request(peer, "replicate", Uint8Array.of(1), 100),
      (e) => e instanceof PeerRequestError && e.retryable,
    );
    // The abandoned attempt closed its socket: the peer reads the handshake, then the end.
    assert.equal(held.length, 1);
    const buf = new Uint8Array(4096);
    while ((await held[0].read(buf)) !== null);
  } finally {
    t.close();
    listener.close();
    for (const conn of held) conn.close();
    await accepting.catch(() => {});
  }
});
