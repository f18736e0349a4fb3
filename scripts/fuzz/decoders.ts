/**
 * In-process fuzz targets for the gossip decoders a node runs on every datagram and connection:
 * {@link fuzzPacketDecoder} (`decodePacket`: label, decryption, CRC, compound, LZW, messages) and
 * {@link fuzzStreamReader} (`StreamReader`: label header, encrypted frames, compression, push/pull,
 * user messages), each input under a deadline. Contract checked: `decodePacket` never throws and
 * answers `{ok}` with leaf messages or a `PacketError`; a `StreamReader` resolves with a message
 * or rejects with a `StreamError`; neither takes longer than the deadline. Anything else is a
 * crash or a hang, reported with the input in hex.
 *
 * @module
 */

import {
  decodePacket,
  MessageType,
  PacketError,
  StreamError,
  StreamReader,
} from "../../src/membership/codec/mod.ts";
import { type Keyring, keyringEncryption } from "../../src/membership/keyring.ts";
import { hexOf, type Mutator, withCrc, withLabel } from "./mutator.ts";
import { count, type FuzzBudget, HANG, type TargetReport, withDeadline, within } from "./target.ts";

const PACKET_TYPES = new Set<number>([0, 1, 2, 3, 4, 5, 8, 11]);
const PROD = new TextEncoder().encode("prod");

/** Fuzzes `decodePacket` with mutated `corpus` entries, plain, labelled and with the keyring. */
export async function fuzzPacketDecoder(
  corpus: readonly Uint8Array[],
  mutator: Mutator,
  budget: FuzzBudget,
  keyring: Keyring,
): Promise<TargetReport> {
  const report: TargetReport = {
    target: "decodePacket",
    tried: 0,
    outcomes: {},
    crashes: [],
    hangs: [],
    ms: 0,
  };
  const decrypt = keyringEncryption(keyring).decryptPacket;
  const started = performance.now();
  while (within(budget, report.tried, started)) {
    const index = report.tried++;
    let input = mutator.next(corpus);
    // A quarter of inputs sit behind valid outer layers, so the inner decoders are reached.
    const wrap = mutator.int(8);
    if (wrap === 0) input = withCrc(input);
    const labelled = wrap === 1;
    if (labelled) input = withLabel(PROD, input);
    const options = {
      label: labelled ? "prod" : "",
      decrypt: mutator.chance(0.5) ? decrypt : undefined,
      verifyIncoming: mutator.chance(0.8),
      maxDecompressed: 1 << 20,
      maxParts: 4096,
    };
    let result;
    try {
      result = await withDeadline(decodePacket(input, options), budget.inputDeadlineMs);
    } catch (err) {
      report.crashes.push({ index, input: hexOf(input), error: `threw ${String(err)}` });
      continue;
    }
    if (result === HANG) {
      report.hangs.push({
        index,
        input: hexOf(input),
        error: `no answer in ${budget.inputDeadlineMs} ms`,
      });
      continue;
    }
    const broken = result.ok
      ? result.messages.find((m) => !PACKET_TYPES.has(m.type))
      : !(result.error instanceof PacketError);
    if (broken) {
      report.crashes.push({
        index,
        input: hexOf(input),
        error: `invalid result ${JSON.stringify(broken)}`,
      });
      continue;
    }
    count(
      report.outcomes,
      result.ok ? (result.problems.length > 0 ? "decoded-partly" : "decoded") : result.error.reason,
    );
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** A connection handing out `bytes` in random-sized reads, then end of stream. */
function chunkedConn(bytes: Uint8Array, mutator: Mutator) {
  let pos = 0;
  const chunk = mutator.chance(0.3) ? 1 + mutator.int(7) : 1 << 16;
  return {
    read(buf: Uint8Array): Promise<number | null> {
      if (pos >= bytes.length) return Promise.resolve(null);
      const n = Math.min(buf.length, chunk, bytes.length - pos);
      buf.set(bytes.subarray(pos, pos + n));
      pos += n;
      return Promise.resolve(n);
    },
  };
}

/** Fuzzes `StreamReader` (label, then one message) with mutated stream contents. */
export async function fuzzStreamReader(
  corpus: readonly Uint8Array[],
  mutator: Mutator,
  budget: FuzzBudget,
  keyring: Keyring,
): Promise<TargetReport> {
  const report: TargetReport = {
    target: "StreamReader",
    tried: 0,
    outcomes: {},
    crashes: [],
    hangs: [],
    ms: 0,
  };
  const decrypt = keyringEncryption(keyring).decryptStream;
  const started = performance.now();
  while (within(budget, report.tried, started)) {
    const index = report.tried++;
    let input = mutator.next(corpus);
    const labelled = mutator.chance(0.1);
    if (labelled) input = withLabel(PROD, input);
    const signal = AbortSignal.timeout(budget.inputDeadlineMs);
    const reader = new StreamReader(chunkedConn(input, mutator), {
      maxBytes: 1 << 20,
      signal,
      label: labelled ? "prod" : "",
      decrypt: mutator.chance(0.6) ? decrypt : undefined,
      requireEncryption: mutator.chance(0.3),
      maxDecompressed: 1 << 20,
      maxPayloadBytes: 1 << 20,
    });
    const read = (async () => {
      await reader.readLabel();
      return await reader.readMessage();
    })();
    let outcome;
    try {
      // The reader has the signal; twice the deadline means it ignored it.
      outcome = await withDeadline(read, 2 * budget.inputDeadlineMs);
    } catch (err) {
      if (err instanceof StreamError) {
        count(report.outcomes, err.reason);
        continue;
      }
      report.crashes.push({ index, input: hexOf(input), error: `threw ${String(err)}` });
      continue;
    }
    if (outcome === HANG) {
      read.catch(() => {});
      report.hangs.push({ index, input: hexOf(input), error: "ignored its deadline" });
      continue;
    }
    const known = [
      MessageType.ping,
      MessageType.ackResp,
      MessageType.pushPull,
      MessageType.user,
      MessageType.errResp,
    ];
    if (!known.includes(outcome.type)) {
      report.crashes.push({
        index,
        input: hexOf(input),
        error: `invalid message type ${outcome.type}`,
      });
      continue;
    }
    count(report.outcomes, `decoded-${outcome.type}`);
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** Outcome of {@link versionFlipCheck} for one direction of the flip. */
export interface VersionFlipResult {
  /** Genuine sealed datagrams whose version byte was flipped. */
  tried: number;
  /** How many of them still decoded to messages. */
  decoded: number;
  /** Why the others were dropped. */
  reasons: Record<string, number>;
}

/**
 * Seals each genuine plaintext datagram as version 1 (unpadded) and version 0 (padded), flips
 * the version byte — which memberlist's format leaves unauthenticated — and counts how many
 * still decode: the README's "not protected" item, measured.
 */
export async function versionFlipCheck(
  plaintexts: readonly Uint8Array[],
  keyring: Keyring,
): Promise<{ v1to0: VersionFlipResult; v0to1: VersionFlipResult }> {
  const decrypt = keyringEncryption(keyring).decryptPacket;
  const run = async (version: 0 | 1): Promise<VersionFlipResult> => {
    const result: VersionFlipResult = { tried: 0, decoded: 0, reasons: {} };
    for (const plain of plaintexts) {
      const sealed = await keyring.encrypt(plain, new Uint8Array(0), version);
      sealed[0] ^= 1;
      const decoded = await decodePacket(sealed, {
        decrypt,
        maxDecompressed: 1 << 20,
        maxParts: 4096,
      });
      result.tried++;
      if (decoded.ok) result.decoded++;
      else count(result.reasons, decoded.error.reason);
    }
    return result;
  };
  return { v1to0: await run(1), v0to1: await run(0) };
}
