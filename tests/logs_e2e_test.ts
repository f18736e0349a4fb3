/**
 * Log fields on real nodes: `node` is always the node that writes the line, `member` the member a
 * line is about (joins, suspicions, deaths, replication to and from a peer). Two nodes in JSON
 * format; one is SIGKILLed so the survivor logs the suspicion and the death.
 */

import assert from "node:assert/strict";
import { put, startCluster, waitFor } from "../testing/mod.ts";

Deno.test("every log line names its own node as node, and the member it is about as member", async () => {
  const nodes = await startCluster("logs", 2, {
    LOG_FORMAT: "json",
    LOG_LEVEL: "debug",
    GOSSIP_PROFILE: "local",
  });
  const [a, b] = nodes;
  try {
    const parsed = () => a.logs.filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
    await waitFor(
      "a to log b joined",
      () =>
        parsed().some((l) => l.msg === "member joined" && l.member === "logs-1") ? true : undefined,
    );
    assert.equal((await put(a, "k", "v")).status, 200);
    await b.stop("SIGKILL");
    await waitFor(
      "a to log b dead",
      () =>
        parsed().some((l) => l.msg === "member dead" && l.member === "logs-1") ? true : undefined,
      15_000,
    );
    const lines = parsed();
    assert.ok(lines.length > 10, `${lines.length} lines`);
    for (const line of lines) {
      assert.equal(line.node, "logs-0", JSON.stringify(line));
    }
    for (
      const msg of ["Suspect member: no acks received", "Marking member dead: suspicion timed out"]
    ) {
      const line = lines.find((l) => l.msg === msg);
      assert.equal(line?.member, "logs-1", `${msg}: ${JSON.stringify(line)}`);
    }
    // Replication debug lines about the peer use member too.
    assert.ok(
      lines.some((l) => l.msg === "replicating to peer" && l.member === "logs-1"),
      "replication names the peer as member",
    );
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
