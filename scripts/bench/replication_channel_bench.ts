/**
 * Which channel carries replication batches between nodes: HTTP/1.1 between API ports (fetch
 * with a kept-alive connection pool, msgpack body) against memberlist's reliable user messages
 * (`sendReliable`: one TCP stream per message on the gossip port). Both ends run in this
 * process on loopback. Measured: one-way delivery latency of single-record batches sent at
 * ~1,000/s (send → receiver's handler), and throughput of 1,000-record batches (~100 KB).
 *
 * @module
 */

import process from "node:process";
import type { CacheService, ReplicationEndpoints } from "../../src/service/mod.ts";
import { createHandler } from "../../src/http/mod.ts";
import { localConfig, Memberlist } from "../../src/membership/mod.ts";
import { ReplicationCodec } from "../../src/replication/codec.ts";
import { HttpReplicationTransport, StreamReplicationTransport } from "../../src/replication/mod.ts";
import { encodeBatchFrame } from "../../src/replication/stream_frames.ts";
import { DenoTransport } from "../../src/transport/mod.ts";
import { systemClock } from "../../src/util/clock.ts";

/** Figures of one channel. */
export interface ChannelFigures {
  channel: string;
  p50: number;
  p99: number;
  largeP50: number;
  cpuUsPerBatch: number;
  batchesPerSec: number;
}

type Send = (body: Uint8Array) => Promise<void>;
type Received = (body: Uint8Array) => void;

const codec = new ReplicationCodec({
  maxKeyBytes: 1024,
  maxValueBytes: 4 << 20,
  maxMessageBytes: 8 << 20,
});

function batch(records: number, sentAt: number): Uint8Array {
  const one = codec.encodeRecord({
    key: `key-${sentAt}`,
    value: "v".repeat(60),
    expiresAt: 0,
    version: { hlc: 1024, node: "a" },
  }, 0);
  return codec.encodeBatch("a", ["a"], new Array(records).fill(one));
}

async function measure(channel: string, send: Send, setReceiver: (r: Received) => void) {
  const latencies: number[] = [];
  setReceiver((body) => {
    const b = codec.decodeBatch(body);
    const sentAt = Number(b.records[0].key.slice(4));
    if (b.records.length === 1) latencies.push(performance.now() - sentAt);
  });
  // ~1,000 single-record batches per second for 2 s (after a warm-up).
  for (let phase = 0; phase < 2; phase++) {
    latencies.length = 0;
    const started = performance.now();
    for (let i = 0; i < 2000; i++) {
      const due = started + i;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await send(batch(1, performance.now()));
    }
  }
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.floor(q * (latencies.length - 1))];
  const [p50, p99] = [at(0.5), at(0.99)];
  // Batches of 40 records (~4 KB) every 5 ms: what a busy node sends.
  const large: number[] = [];
  setReceiver((body) => {
    const b = codec.decodeBatch(body);
    large.push(performance.now() - Number(b.records[0].key.slice(4)));
  });
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 5));
    await send(batch(40, performance.now()));
  }
  large.sort((a, b) => a - b);
  const largeP50 = large[Math.floor(large.length / 2)];
  setReceiver(() => {});
  // CPU per single-record batch at saturation (2 in flight), both ends in this process.
  const one = batch(1, 0);
  const cpu0 = process.cpuUsage();
  const n = 10_000;
  let i = 0;
  const worker = async () => {
    while (i++ < n) await send(one);
  };
  await Promise.all([worker(), worker()]);
  const cpu = process.cpuUsage(cpu0);
  const cpuUsPerBatch = (cpu.user + cpu.system) / n;
  const big = batch(1000, 0);
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < 2000) {
    await Promise.all([send(big), send(big)]);
    sent += 2;
  }
  const batchesPerSec = sent / ((performance.now() - t0) / 1000);
  return { channel, p50, p99, largeP50, cpuUsPerBatch, batchesPerSec };
}

/** A node-like server: the real HTTP edge with replication endpoints that hand batches over. */
function server(receive: () => Received) {
  const replication: ReplicationEndpoints = {
    maxMessageBytes: 8 << 20,
    receiveBatch: (body) => {
      receive()(body);
      return codec.encode([1, 1]);
    },
    answerSync: () => new Uint8Array(),
    read: () => new Uint8Array(),
    list: () => new Uint8Array(),
    purge: () => Promise.resolve(new Uint8Array()),
  };
  const service = { replication, limits: { maxKeyBytes: 1024, maxValueBytes: 1024 } };
  const streams = new Set<WebSocket>();
  const s = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    createHandler(service as unknown as CacheService, { streams }),
  );
  return {
    peer: { name: "b", host: "127.0.0.1", httpPort: s.addr.port },
    async close() {
      for (const w of streams) w.close();
      await s.shutdown();
    },
  };
}

async function transportChannel(name: string, websocket: boolean): Promise<ChannelFigures> {
  let receiver: Received = () => {};
  const srv = server(() => receiver);
  const http = new HttpReplicationTransport({ clock: systemClock });
  const transport = websocket
    ? new StreamReplicationTransport({ inner: http, clock: systemClock })
    : http;
  try {
    return await measure(
      name,
      async (body) => {
        await transport.request(srv.peer, "replicate", body, 5000);
      },
      (r) => (receiver = r),
    );
  } finally {
    transport.close();
    await srv.close();
  }
}

/** The runtime's own `WebSocket` client against the same server (what we do not use). */
async function runtimeWebSocketChannel(): Promise<ChannelFigures> {
  let receiver: Received = () => {};
  const srv = server(() => receiver);
  const ws = new WebSocket(`ws://127.0.0.1:${srv.peer.httpPort}/internal/stream`);
  ws.binaryType = "arraybuffer";
  await new Promise((r) => (ws.onopen = r));
  const waiting = new Map<number, () => void>();
  ws.onmessage = (e) => {
    const seq = new DataView(e.data as ArrayBuffer).getUint32(0);
    waiting.get(seq)?.();
    waiting.delete(seq);
  };
  let seq = 0;
  try {
    return await measure("runtime `WebSocket` client (not used: see ws_client.ts)", (body) => {
      const s = ++seq;
      const done = new Promise<void>((r) => waiting.set(s, r));
      ws.send(encodeBatchFrame(s, body));
      return done;
    }, (r) => (receiver = r));
  } finally {
    ws.close();
    await srv.close();
  }
}

async function memberlistChannel(): Promise<ChannelFigures> {
  let receiver: Received = () => {};
  const make = (name: string, delegate = {}) => {
    const transport = DenoTransport.listen({ hostname: "127.0.0.1", port: 0 });
    return new Memberlist({
      name,
      transport,
      config: { ...localConfig(), bindPort: transport.localAddress.port },
      delegate,
    });
  };
  const a = make("a");
  const b = make("b", { notifyMessage: (body: Uint8Array) => receiver(body) });
  await a.start();
  await b.start();
  try {
    await a.join([b.address]);
    return await measure(
      "memberlist sendReliable (TCP stream per message)",
      (body) => a.sendReliable("b", body),
      (r) => (receiver = r),
    );
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
}

/** Measures every channel; returns markdown table rows. */
export async function channelBench(): Promise<string[]> {
  const rows = [
    "| channel | one-way latency p50 / p99 (ms), 1 record at ~1,000/s | p50 of 4 KB batches every 5 ms (ms) | CPU per 1-record batch, both ends (µs) | 1,000-record batches/s |",
    "|---|---|---|---|---|",
  ];
  const figures = [
    await transportChannel("WebSocket per peer, own client (StreamReplicationTransport)", true),
    await runtimeWebSocketChannel(),
    await transportChannel("HTTP/1.1 POST per batch, keep-alive (HttpReplicationTransport)", false),
    await memberlistChannel(),
  ];
  for (const f of figures) {
    rows.push(
      `| ${f.channel} | ${f.p50.toFixed(3)} / ${f.p99.toFixed(3)} | ${f.largeP50.toFixed(2)} | ${
        f.cpuUsPerBatch.toFixed(0)
      } | ${f.batchesPerSec.toFixed(0)} |`,
    );
  }
  return rows;
}

if (import.meta.main) console.log((await channelBench()).join("\n"));
