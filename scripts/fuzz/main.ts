/**
 * `deno task fuzz`: hostile input against everything a node exposes, bounded by input count and
 * wall time, reproducible from a seed. Targets, in order:
 *
 * 1. `decodePacket` in-process: mutated golden vectors and captured datagrams (plaintext and
 *    encrypted), a quarter behind valid CRC or label layers; plus the version-byte flip check.
 * 2. `StreamReader` in-process: mutated stream contents (golden, encoded, captured push/pull and
 *    user-message streams), delivered in random-sized reads.
 * 3. A live 3-node encrypted cluster: datagrams to node 0's UDP gossip port, then connections to
 *    its TCP port; members, states and store digests must not change, drops must be counted.
 * 4. A live 2-node plaintext cluster, the same way (well-formed gossip is accepted by design:
 *    only crashes, hangs, the store digest and the real members' liveness are checked).
 * 5. A live node's HTTP port: hand-written hostile requests, then mutated ones.
 *
 * Usage: `deno task fuzz [--seconds 60] [--count 1000000] [--seed 1] [--json]` — `--count` caps
 * each target, `--seconds` the whole run. Prints a summary (or the JSON report) and exits 1 when
 * any input crashed, hung or changed state. The task grants the network on 127.0.0.1 only, so
 * addresses the inputs make up cannot be reached.
 *
 * @module
 */

import { Keyring } from "../../src/membership/keyring.ts";
import { flagsOrExit } from "../cli_flags.ts";
import { gossipCorpus } from "./corpus.ts";
import { fuzzPacketDecoder, fuzzStreamReader, versionFlipCheck } from "./decoders.ts";
import { fuzzLiveGossip } from "./live_gossip.ts";
import { fuzzLiveHttp } from "./live_http.ts";
import { Mutator } from "./mutator.ts";
import type { FuzzBudget, TargetReport } from "./target.ts";

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Wall-clock budget of the whole run, seconds. */
  seconds: number;
  /** Most inputs per target. */
  count: number;
  /** Seed of the inputs. */
  seed: number;
}

/** Everything a run did. */
export interface FuzzReport {
  /** The options it ran with. */
  options: FuzzOptions;
  /** Corpus sizes. */
  corpus: { packets: number; streams: number; capturedPackets: number; capturedStreams: number };
  /** One entry per target. */
  targets: TargetReport[];
  /** Sum of inputs tried over all targets. */
  tried: number;
  /** Sum of crashes and hangs (0 for a clean run). */
  failures: number;
  /** Genuine encrypted datagrams with their version byte flipped that still decoded. */
  versionFlip: Awaited<ReturnType<typeof versionFlipCheck>>;
}

/** Shares of the time budget per target (they sum to 1). */
const SHARES = { packet: 0.22, stream: 0.18, encrypted: 0.2, plaintext: 0.12, http: 0.28 };

/** Runs every target within `options`' budget. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const key = new Uint8Array(32).map((_, i) => (i * 73 + options.seed) & 0xff);
  const keyring = new Keyring([key]);
  const corpus = await gossipCorpus({ key });
  const budget = (share: number, parts = 1): FuzzBudget => ({
    count: options.count,
    ms: (options.seconds * 1000 * share) / parts,
    inputDeadlineMs: 2000,
  });
  const mutator = (n: number) => new Mutator({ seed: options.seed * 1000 + n });
  const targets: TargetReport[] = [];
  targets.push(await fuzzPacketDecoder(corpus.packets, mutator(1), budget(SHARES.packet), keyring));
  targets.push(await fuzzStreamReader(corpus.streams, mutator(2), budget(SHARES.stream), keyring));
  const secretKey = btoa(String.fromCharCode(...key));
  targets.push(
    ...await fuzzLiveGossip({
      corpus,
      mutator: mutator(3),
      budget: budget(SHARES.encrypted, 2),
      secretKey,
    }),
  );
  targets.push(
    ...await fuzzLiveGossip({ corpus, mutator: mutator(4), budget: budget(SHARES.plaintext, 2) }),
  );
  targets.push(await fuzzLiveHttp(mutator(5), budget(SHARES.http)));
  const versionFlip = await versionFlipCheck(corpus.captured.plainPackets, keyring);
  return {
    options,
    corpus: {
      packets: corpus.packets.length,
      streams: corpus.streams.length,
      capturedPackets: corpus.captured.plainPackets.length +
        corpus.captured.encryptedPackets.length,
      capturedStreams: corpus.captured.streams,
    },
    targets,
    tried: targets.reduce((n, t) => n + t.tried, 0),
    failures: targets.reduce((n, t) => n + t.crashes.length + t.hangs.length, 0),
    versionFlip,
  };
}

interface Counters {
  packetsDropped: number;
  dropped: Record<string, number>;
  streamErrors: Record<string, number>;
}

function summary(report: FuzzReport): string {
  const lines = [
    `fuzz: seed ${report.options.seed}, ${report.options.seconds} s, corpus ${report.corpus.packets} packets (${report.corpus.capturedPackets} captured) + ${report.corpus.streams} streams (${report.corpus.capturedStreams} captured)`,
  ];
  for (const t of report.targets) {
    const top = Object.entries(t.outcomes).sort((a, b) => b[1] - a[1]).slice(0, 5)
      .map(([k, v]) => `${k} ${v}`).join(", ");
    lines.push(
      `  ${t.target.padEnd(26)} ${
        String(t.tried).padStart(8)
      } inputs  ${t.crashes.length} crashes  ${t.hangs.length} hangs  ${t.ms} ms  [${top}]`,
    );
    const notes = t.notes as
      | { membershipBefore?: Counters; membershipAfter?: Counters }
      | undefined;
    if (notes?.membershipAfter && notes.membershipBefore && t.target.includes("UDP")) {
      const dropped = notes.membershipAfter.packetsDropped - notes.membershipBefore.packetsDropped;
      lines.push(
        `    target counted ${dropped} datagrams dropped ${
          JSON.stringify(notes.membershipAfter.dropped)
        }, stream errors ${JSON.stringify(notes.membershipAfter.streamErrors)}`,
      );
    }
    for (const f of [...t.crashes, ...t.hangs].slice(0, 5)) {
      lines.push(`    #${f.index}: ${f.error} ${f.input}`);
    }
  }
  const v = report.versionFlip;
  lines.push(
    `  version byte flipped on genuine encrypted packets: v1→v0 ${v.v1to0.decoded}/${v.v1to0.tried} decoded, v0→v1 ${v.v0to1.decoded}/${v.v0to1.tried} decoded`,
  );
  lines.push(`total: ${report.tried} inputs, ${report.failures} failures`);
  return lines.join("\n");
}

if (import.meta.main) {
  const { json, ...options } = flagsOrExit({ command: "deno task fuzz" }, {
    seconds: 60,
    count: 1_000_000,
    seed: 1,
    json: false,
  });
  const report = await runFuzz(options);
  console.log(json ? JSON.stringify(report) : summary(report));
  Deno.exit(report.failures === 0 ? 0 : 1);
}
