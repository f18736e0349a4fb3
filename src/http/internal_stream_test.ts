import assert from "node:assert/strict";
import { PeerRequestError, StreamReplicationTransport } from "../replication/mod.ts";
import type { ReplicationTransport } from "../replication/mod.ts";
import { systemClock } from "../util/clock.ts";
import { createHandler, type ReplicationEndpoints } from "./app.ts";
import type { CacheService } from "./app.ts";

const noHttp: ReplicationTransport = {
  request: () => Promise.reject(new Error("not used")),
  close: () => {},
};

/** A server whose replication endpoints echo the batch's first byte, or refuse a 0xff. */
function serve(endpoints: Partial<ReplicationEndpoints> = {}) {
  const received: Uint8Array[] = [];
  const replication: ReplicationEndpoints = {
    maxMessageBytes: 1024,
    receiveBatch: (body) => {
      if (body[0] === 0xff) throw new TypeError("Cannot decode replicate batch: bad");
      received.push(body.slice());
      return body.subarray(0, 1);
    },
    answerSync: () => new Uint8Array(),
    ...endpoints,
  };
  const service = {
    replication,
    limits: { maxKeyBytes: 10, maxValueBytes: 10 },
  } as unknown as CacheService;
  const streams = new Set<WebSocket>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHandler(service, { streams }),
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
