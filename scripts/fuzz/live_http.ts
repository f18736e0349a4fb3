/**
 * Fuzzes a live, in-process node's HTTP port with raw TCP writes: hand-written hostile requests
 * (broken request lines, huge URIs and headers, bad chunked encoding, conflicting lengths,
 * stalled bodies, bad JSON, bad keys, garbage on the internal routes, a broken WebSocket
 * upgrade), then mutations of ordinary requests. The node runs with `AUTH_TOKEN`; inputs carry
 * no token, a wrong one, or — for the hand-written invalid requests — the right one, so
 * validation is reached too. Checked: no 5xx answer (an internal error on bad input), no hang
 * (the node answers `/healthz` within the deadline throughout), and no state change (the store
 * digest and entry count are the same at the end).
 *
 * @module
 */

import { CacheNode } from "../../src/node/cache_node.ts";
import { concat, hexOf, type Mutator } from "./mutator.ts";
import { count, type FuzzBudget, type TargetReport } from "./target.ts";

const TOKEN = "fuzz-token-0123456789abcdef";
const utf8 = new TextEncoder();

/** A raw HTTP/1.1 request: request line, headers, then `body`. */
function raw(head: string, body: string | Uint8Array = ""): Uint8Array {
  return concat(
    utf8.encode(head.replaceAll("\n", "\r\n") + "\r\n"),
    typeof body === "string" ? utf8.encode(body) : body,
  );
}

function put(path: string, type: string, body: string | Uint8Array, extra = ""): Uint8Array {
  const length = typeof body === "string" ? utf8.encode(body).length : body.length;
  return raw(
    `PUT ${path} HTTP/1.1\nHost: x\nAuthorization: Bearer ${TOKEN}\nContent-Type: ${type}\nContent-Length: ${length}\n${extra}`,
    body,
  );
}

/** Hand-written requests that must be refused (or answered without changing anything). */
export function hostileRequests(): { name: string; bytes: Uint8Array }[] {
  const json = "application/json";
  const auth = `Authorization: Bearer ${TOKEN}\n`;
  const list: [string, Uint8Array][] = [
    ["garbage line", raw("GARBAGE\n")],
    ["method only", raw("GET\n")],
    ["HTTP/9.9", raw("GET /cache/k HTTP/9.9\nHost: x\n")],
    ["HTTP/0.9", utf8.encode("GET /\r\n")],
    ["bare LF", utf8.encode("GET /stats HTTP/1.1\nHost: x\n\n")],
    ["binary", Uint8Array.from({ length: 512 }, (_, i) => (i * 37) & 0xff)],
    ["NUL in path", raw("GET /cache/a\0b HTTP/1.1\nHost: x\n")],
    ["huge URI", raw(`GET /cache/${"a".repeat(100_000)} HTTP/1.1\nHost: x\n`)],
    ["huge header", raw(`GET /stats HTTP/1.1\nHost: x\nX-A: ${"a".repeat(100_000)}\n`)],
    ["2000 headers", raw(`GET /stats HTTP/1.1\nHost: x\n${"X-H: v\n".repeat(2000)}`)],
    ["header without colon", raw("GET /stats HTTP/1.1\nHost: x\nNoColonHere\n")],
    ["obs-fold", raw("GET /stats HTTP/1.1\nHost: x\nX-A: a\n  folded\n")],
    ["no Host", raw("GET /stats HTTP/1.1\n")],
    ["absolute URI", raw("GET http://evil/cache/k HTTP/1.1\nHost: x\n")],
    ["dot segments", raw("GET /cache/../../etc/passwd HTTP/1.1\nHost: x\n")],
    // Deno builds Request.url from Host: an unparsable one once turned two routes into 500s.
    ["unparsable Host", raw("GET /dashboard/state?token=nope HTTP/1.1\nHost: a b: c\n")],
    [
      "unparsable Host PUT",
      raw(
        `PUT /cache/k?ttl=-5 HTTP/1.1\nHost: a b: c\n${auth}Content-Type: text/plain\nContent-Length: 1\n`,
        "v",
      ),
    ],
    [
      "chunk size not hex",
      raw("PUT /cache/k HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n", "zz\r\nabc\r\n0\r\n\r\n"),
    ],
    [
      "chunk size overflow",
      raw(
        "PUT /cache/k HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n",
        "ffffffffffffffffffff\r\nabc\r\n",
      ),
    ],
    [
      "chunk without end",
      raw(
        `PUT /cache/k HTTP/1.1\nHost: x\n${auth}Content-Type: text/plain\nTransfer-Encoding: chunked\n`,
        "3\r\nabc\r\n",
      ),
    ],
    [
      "chunk bad ext",
      raw(
        "PUT /cache/k HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n",
        "3;\0\0\r\nabc\r\n0\r\n\r\n",
      ),
    ],
    [
      "CL and TE",
      raw(
        "PUT /cache/k HTTP/1.1\nHost: x\nContent-Length: 5\nTransfer-Encoding: chunked\n",
        "0\r\n\r\nGET /stats HTTP/1.1\r\nHost: x\r\n\r\n",
      ),
    ],
    [
      "TE gzip,chunked",
      raw("PUT /cache/k HTTP/1.1\nHost: x\nTransfer-Encoding: gzip, chunked\n", "0\r\n\r\n"),
    ],
    [
      "two lengths",
      raw("PUT /cache/k HTTP/1.1\nHost: x\nContent-Length: 3\nContent-Length: 4\n", "abcd"),
    ],
    ["negative length", raw("PUT /cache/k HTTP/1.1\nHost: x\nContent-Length: -1\n")],
    ["length not a number", raw("PUT /cache/k HTTP/1.1\nHost: x\nContent-Length: abc\n")],
    [
      "stalled body",
      raw(
        `PUT /cache/k HTTP/1.1\nHost: x\n${auth}Content-Type: text/plain\nContent-Length: 1000\n`,
        "short",
      ),
    ],
    [
      "expect without body",
      raw(
        `PUT /cache/k HTTP/1.1\nHost: x\n${auth}Content-Type: text/plain\nExpect: 100-continue\nContent-Length: 10\n`,
      ),
    ],
    [
      "h2c upgrade",
      raw(
        "GET /stats HTTP/1.1\nHost: x\nConnection: Upgrade, HTTP2-Settings\nUpgrade: h2c\nHTTP2-Settings: AAAA\n",
      ),
    ],
    ["h2 preface", utf8.encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")],
    [
      "pipelined garbage",
      concat(raw("GET /healthz HTTP/1.1\nHost: x\n"), utf8.encode("\x16\x03\x01garbage\r\n\r\n")),
    ],
    ["TLS hello", Uint8Array.of(0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00)],
    ["truncated JSON", put("/cache/k", json, '{"value":')],
    ["non-string value", put("/cache/k", json, '{"value":1}')],
    ["no value", put("/cache/k", json, '{"ttl":1}')],
    ["negative ttl", put("/cache/k", json, '{"value":"x","ttl":-1}')],
    ["huge ttl", put("/cache/k", json, '{"value":"x","ttl":1e309}')],
    ["bad duration", put("/cache/k", json, '{"value":"x","duration":"abc"}')],
    ["ttl and duration", put("/cache/k", json, '{"value":"x","ttl":1,"duration":"1"}')],
    ["JSON array", put("/cache/k", json, '["value","x"]')],
    ["deep nesting", put("/cache/k", json, "[".repeat(60_000))],
    [
      "invalid UTF-8 JSON",
      put("/cache/k", json, Uint8Array.of(0x7b, 0x22, 0x76, 0xc3, 0x28, 0x22, 0x7d)),
    ],
    ["unknown type", put("/cache/k", "application/xml", "<v/>")],
    ["over the value limit", put("/cache/k", "text/plain", "v".repeat(200_000))],
    ["bad percent key", put("/cache/%zz", "text/plain", "v")],
    ["invalid UTF-8 key", put("/cache/%C3%28", "text/plain", "v")],
    ["key too long", put(`/cache/${"k".repeat(100)}`, "text/plain", "v")],
    ["empty key", put("/cache/", "text/plain", "v")],
    ["nested key path", put("/cache/a/b", "text/plain", "v")],
    ["bad write acks", put("/cache/k", "text/plain", "v", "X-Write-Acks: lots\n")],
    ["zero write acks", put("/cache/k", "text/plain", "v", "X-Write-Acks: 0\n")],
    ["bad ttl query", put("/cache/k?ttl=-5", "text/plain", "v")],
    ["PATCH", raw(`PATCH /cache/k HTTP/1.1\nHost: x\n${auth}Content-Length: 0\n`)],
    ["DELETE bad key", raw(`DELETE /cache/%E0%A4%A HTTP/1.1\nHost: x\n${auth}`)],
    ["GET invalid UTF-8 key", raw(`GET /cache/%C3%28 HTTP/1.1\nHost: x\n${auth}`)],
    [
      "internal garbage",
      raw(
        `POST /internal/replicate HTTP/1.1\nHost: x\n${auth}Content-Type: application/msgpack\nContent-Length: 6\n`,
        "\xc1\xc1\xc1\xc1\xc1\xc1",
      ),
    ],
    [
      "internal wrong shape",
      raw(
        `POST /internal/replicate HTTP/1.1\nHost: x\n${auth}Content-Type: application/msgpack\nContent-Length: 3\n`,
        Uint8Array.of(0x93, 0x01, 0xc0, 0xc0).subarray(0, 3),
      ),
    ],
    [
      "sync garbage",
      raw(
        `POST /internal/sync HTTP/1.1\nHost: x\n${auth}Content-Type: application/msgpack\nContent-Length: 4\n`,
        Uint8Array.of(0xdd, 0xff, 0xff, 0xff),
      ),
    ],
    [
      "internal wrong type",
      raw(
        `POST /internal/replicate HTTP/1.1\nHost: x\n${auth}Content-Type: application/json\nContent-Length: 2\n`,
        "{}",
      ),
    ],
    ["stream without upgrade", raw(`GET /internal/stream HTTP/1.1\nHost: x\n${auth}`)],
    [
      "stream bad upgrade",
      raw(
        `GET /internal/stream HTTP/1.1\nHost: x\n${auth}Upgrade: websocket\nConnection: Upgrade\n`,
      ),
    ],
    [
      "stream bad key",
      raw(
        `GET /internal/stream HTTP/1.1\nHost: x\n${auth}Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: x\nSec-WebSocket-Version: 99\n`,
      ),
    ],
  ];
  return list.map(([name, bytes]) => ({ name, bytes }));
}

/** Ordinary requests without the right token: the mutation seeds. */
function mutationSeeds(): Uint8Array[] {
  const wrong = "Authorization: Bearer wrong-token-0123456789\n";
  return [
    raw("GET /cache/fuzz-key-1 HTTP/1.1\nHost: x\n"),
    raw(`GET /cache/fuzz-key-1 HTTP/1.1\nHost: x\n${wrong}X-Cache-Meta: true\n`),
    raw(
      `PUT /cache/fuzz-key-1 HTTP/1.1\nHost: x\n${wrong}Content-Type: application/json\nContent-Length: 28\n`,
      '{"value":"evil","ttl":100.5}',
    ),
    raw(
      "PUT /cache/k HTTP/1.1\nHost: x\nContent-Type: text/plain\nTransfer-Encoding: chunked\n",
      "4\r\nevil\r\n0\r\n\r\n",
    ),
    raw(`DELETE /cache/fuzz-key-2 HTTP/1.1\nHost: x\n${wrong}`),
    raw(
      "POST /internal/replicate HTTP/1.1\nHost: x\nContent-Type: application/msgpack\nContent-Length: 4\n",
      Uint8Array.of(0x95, 1, 0xa1, 0x65),
    ),
    raw(
      `GET /internal/stream HTTP/1.1\nHost: x\n${wrong}Upgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n`,
    ),
    raw("GET /stats HTTP/1.1\nHost: x\nCookie: cachenode_token=nope\n"),
    raw("GET /dashboard/state?token=nope HTTP/1.1\nHost: x\n"),
    raw("GET /healthz HTTP/1.1\nHost: x\n"),
  ];
}

/** Sends one request on a fresh connection; the answer's status, or what happened instead. */
async function exchange(port: number, bytes: Uint8Array, deadlineMs: number): Promise<string> {
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  } catch (err) {
    return `connect-failed ${(err as Error).name}`;
  }
  const timer = setTimeout(() => conn.close(), deadlineMs);
  let head = "";
  try {
    await conn.write(bytes).catch(() => {});
    const buf = new Uint8Array(4096);
    while (!head.includes("\r\n")) {
      const n = await conn.read(buf);
      if (n === null) return head === "" ? "closed-no-answer" : "closed-mid-answer";
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    return status ? status[1] : `not-http ${JSON.stringify(head.slice(0, 20))}`;
  } catch (err) {
    const deadline = err instanceof Deno.errors.BadResource ||
      err instanceof Deno.errors.Interrupted;
    return deadline ? "open-at-deadline" : `error ${(err as Error).name}`;
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch {
      // closed by the deadline
    }
  }
}

async function healthy(port: number, ms: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, {
      signal: AbortSignal.timeout(ms),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

/** Runs the hand-written requests, then mutations until the budget runs out. */
export async function fuzzLiveHttp(mutator: Mutator, budget: FuzzBudget): Promise<TargetReport> {
  const report: TargetReport = {
    target: "live HTTP",
    tried: 0,
    outcomes: {},
    crashes: [],
    hangs: [],
    ms: 0,
  };
  const node = new CacheNode({
    nodeName: "http-target",
    bindAddr: "127.0.0.1",
    httpPort: 0,
    gossipPort: 0,
    authToken: TOKEN,
    maxKeyBytes: 64,
    maxValueBytes: 1024,
  });
  await node.start();
  try {
    for (let i = 0; i < 20; i++) await node.set(`fuzz-key-${i}`, `value-${i}`);
    const before = node.stats().store;
    const port = node.httpAddress!.port;
    const handWritten = hostileRequests();
    const seeds = mutationSeeds();
    const byName: Record<string, string> = {};
    const started = performance.now();
    const deadlineMs = Math.min(budget.inputDeadlineMs, 1000);
    const worker = async () => {
      while (report.tried < budget.count && performance.now() - started < budget.ms) {
        const index = report.tried++;
        const hand = handWritten[index];
        const input = hand?.bytes ?? mutator.next(seeds);
        const outcome = await exchange(port, input, deadlineMs);
        count(report.outcomes, outcome);
        if (hand) byName[hand.name] = outcome;
        if (outcome.startsWith("5")) {
          report.crashes.push({
            index,
            input: hexOf(input),
            error: `answered ${outcome}${hand ? ` to ${hand.name}` : ""}`,
          });
        }
        if (index % 50 === 0 && !(await healthy(port, budget.inputDeadlineMs))) {
          report.hangs.push({
            index,
            input: hexOf(input),
            error: "target stopped answering /healthz",
          });
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    report.ms = Math.round(performance.now() - started);
    const after = node.stats().store;
    if (after.digest !== before.digest || after.entries !== before.entries) {
      report.crashes.push({
        index: -1,
        input: "",
        error: `store changed: ${before.entries} → ${after.entries} entries`,
      });
    }
    report.notes = { handWritten: byName, entries: after.entries };
  } finally {
    await node.close();
  }
  return report;
}
