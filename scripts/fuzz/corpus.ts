/**
 * Seed inputs for the gossip fuzzers: the codec's golden vectors (byte-exact Go memberlist
 * output), plus real traffic captured from a 3-node cluster of {@link Memberlist} engines on a
 * {@link MemoryNetwork} in virtual time — joins (push/pull streams), probes, gossip, a user
 * message both ways, a killed member (suspect, dead) — once in plaintext and once encrypted with
 * the keyring the live fuzz target uses. Packets are the datagrams the network carried; streams
 * are the bytes each side wrote on a connection, dialer and responder.
 *
 * @module
 */

import { GOLDEN, unhex } from "../../src/membership/codec/golden.ts";
import {
  encodePushPull,
  encodeStreamMessage,
  encodeUserMessageStream,
  MessageType,
  type StreamSealer,
} from "../../src/membership/codec/mod.ts";
import { localConfig } from "../../src/membership/config.ts";
import { Keyring, keyringEncryption } from "../../src/membership/keyring.ts";
import { Memberlist } from "../../src/membership/memberlist.ts";
import { MemoryNetwork, runFor } from "../../src/transport/mod.ts";
import type { StreamConn, Transport } from "../../src/transport/transport.ts";
import { VirtualClock } from "../../src/util/clock.ts";
import { SeededRandom } from "../../src/util/random.ts";

/** Inputs of the packet and stream fuzzers. */
export interface GossipCorpus {
  /** Whole datagrams (golden, captured plaintext, captured encrypted). */
  packets: Uint8Array[];
  /** Whole stream contents as one side wrote them (golden, encoded, captured). */
  streams: Uint8Array[];
  /** Captured datagrams by kind (also in `packets`). */
  captured: { plainPackets: Uint8Array[]; encryptedPackets: Uint8Array[]; streams: number };
}

/** Options of {@link gossipCorpus}. */
export interface GossipCorpusOptions {
  /** Raw key of the encrypted capture (the live target's `SECRET_KEY`). */
  key: Uint8Array;
  /** Virtual seconds of traffic per capture. @default 20 */
  seconds?: number;
}

/** Collects a stream's written chunks as one byte array when it closes. */
function recordingConn(conn: StreamConn, out: Uint8Array[][]): StreamConn {
  const chunks: Uint8Array[] = [];
  out.push(chunks);
  return {
    remote: conn.remote,
    read: (buf) => conn.read(buf),
    write: (data) => {
      chunks.push(data.slice());
      return conn.write(data);
    },
    close: () => conn.close(),
  };
}

/** `transport` with every stream's writes recorded in `streams`. */
function recording(transport: Transport, streams: Uint8Array[][]): Transport {
  return {
    get localAddress() {
      return transport.localAddress;
    },
    sendPacket: (to, data) => transport.sendPacket(to, data),
    dialStream: async (to, timeoutMs) =>
      recordingConn(await transport.dialStream(to, timeoutMs), streams),
    onPacket: (handler) => transport.onPacket(handler),
    onStream: (handler) => transport.onStream((conn) => handler(recordingConn(conn, streams))),
    close: () => transport.close(),
  };
}

/** Runs a 3-node cluster for `seconds` of virtual time and returns what crossed the network. */
async function capture(
  keyring: Keyring | undefined,
  seconds: number,
): Promise<{ packets: Uint8Array[]; streams: Uint8Array[] }> {
  const clock = new VirtualClock(0);
  const net = new MemoryNetwork({
    clock,
    random: new SeededRandom(7),
    latencyMs: 1,
    logger: () => {},
  });
  const packets: Uint8Array[] = [];
  const streamChunks: Uint8Array[][] = [];
  net.tap((event) => void packets.push(event.data.slice()));
  const names = ["fuzz-a", "fuzz-b", "fuzz-c"];
  const nodes = names.map((name, i) => {
    const address = { host: `10.9.0.${i + 1}`, port: 7946 };
    const transport = net.attach(address);
    return new Memberlist({
      name,
      transport: recording(transport, streamChunks),
      config: { ...localConfig(), pushPullInterval: 2000 },
      clock: transport.clock,
      random: new SeededRandom(11 + i),
      seeds: i === 0 ? [] : [{ host: "10.9.0.1", port: 7946 }],
      encryption: keyring && keyringEncryption(keyring),
      delegate: {
        nodeMeta: () => new TextEncoder().encode(`{"http_port":${8000 + i}}`),
        localState: () => new TextEncoder().encode(`state of ${name}`),
      },
    });
  });
  for (const node of nodes) await node.start();
  await runFor(clock, (seconds * 1000) / 2, 5);
  // Sends complete as the virtual clock runs, so they are awaited after it.
  const sends = [
    nodes[0].sendBestEffort({ host: "10.9.0.2", port: 7946 }, new TextEncoder().encode("hi")),
    nodes[1].sendReliable({ host: "10.9.0.1", port: 7946 }, new Uint8Array(300).fill(7)),
  ];
  await runFor(clock, 1000, 5);
  await Promise.allSettled(sends);
  net.kill({ host: "10.9.0.3", port: 7946 }); // suspect and dead gossip follow
  await runFor(clock, (seconds * 1000) / 2, 5);
  const down = Promise.allSettled(nodes.map((n) => n.shutdown()));
  await runFor(clock, 1000, 5);
  await down;
  await net.close();
  const streams = streamChunks.filter((c) => c.length > 0).map((chunks) => {
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  });
  return { packets, streams };
}

/** Stream messages built with the codec's encoders, plaintext and sealed. */
async function encodedStreams(sealer: StreamSealer): Promise<Uint8Array[]> {
  const ping = unhex(GOLDEN.ping);
  const node = {
    name: "fuzz-x",
    addr: Uint8Array.of(10, 0, 0, 9),
    port: 7946,
    meta: null,
    incarnation: 3,
    state: 0,
    vsn: Uint8Array.of(1, 5, 2, 0, 0, 0),
  };
  const out: Uint8Array[] = [];
  for (const encrypt of [undefined, sealer]) {
    for (const compress of [false, true]) {
      const options = { compress, encrypt, label: "" };
      out.push(await encodeStreamMessage(ping, options));
      out.push(
        await encodePushPull(
          { join: true },
          [node, { ...node, name: "fuzz-y" }],
          Uint8Array.of(1, 2, 3),
          options,
        ),
      );
      out.push(await encodeUserMessageStream(new TextEncoder().encode("user"), options));
    }
  }
  out.push(await encodeStreamMessage(ping, { compress: false, label: "prod" }));
  out.push(
    Uint8Array.of(MessageType.errResp, 0x81, 0xa5, 0x45, 0x72, 0x72, 0x6f, 0x72, 0xa1, 0x78),
  );
  return out;
}

/** Builds the corpus; deterministic for a given key. */
export async function gossipCorpus(options: GossipCorpusOptions): Promise<GossipCorpus> {
  const seconds = options.seconds ?? 20;
  const keyring = new Keyring([options.key]);
  const plain = await capture(undefined, seconds);
  const sealed = await capture(keyring, seconds);
  const golden = Object.entries(GOLDEN)
    .filter(([name]) => !["aesKey", "nonce", "lzwToBeOrNot"].includes(name))
    .map(([, value]) => unhex(value));
  const goldenStreams = [unhex(GOLDEN.pushPull), unhex(GOLDEN.streamV1), unhex(GOLDEN.ping)];
  const encoded = await encodedStreams(keyringEncryption(keyring).streamSealer);
  return {
    packets: [...golden, ...plain.packets, ...sealed.packets],
    streams: [...goldenStreams, ...encoded, ...plain.streams, ...sealed.streams],
    captured: {
      plainPackets: plain.packets,
      encryptedPackets: sealed.packets,
      streams: plain.streams.length + sealed.streams.length,
    },
  };
}
