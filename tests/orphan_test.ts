/**
 * `deno task run` is a wrapper process that starts the node as its child. Killing the wrapper
 * with SIGKILL (it cannot forward that signal) must not leave the node running: the node notices
 * that its parent is gone and shuts down, closing its ports. Under `run:strict` the chain is one
 * longer (wrapper, launcher, node): the launcher watches its parent the same way and stops its
 * node.
 */

import assert from "node:assert/strict";
import { freePort, repositoryRoot, waitFor } from "../testing/mod.ts";

/** Polls until nothing accepts TCP connections on `port`. */
function portClosed(what: string, port: number): Promise<true> {
  return waitFor(
    `the node's ${what} port ${port} to close`,
    async () => {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port })).close();
        return undefined;
      } catch {
        return true;
      }
    },
    10_000,
    50,
  );
}

for (const task of ["run", "run:strict"]) {
  Deno.test({
    name: `SIGKILL of the deno task wrapper stops the node (${task})`,
    ignore: Deno.build.os === "windows",
    async fn() {
      const httpPort = freePort();
      const gossipPort = freePort();
      const wrapper = new Deno.Command(Deno.execPath(), {
        args: ["task", task],
        cwd: repositoryRoot,
        env: {
          NO_COLOR: "1",
          HTTP_PORT: String(httpPort),
          PORT: String(gossipPort),
          NODE_NAME: "orphan",
          PATH: Deno.env.get("PATH") ?? "",
        },
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      const healthz = `http://127.0.0.1:${httpPort}/healthz`;
      try {
        await waitFor("the node answering", async () => {
          const res = await fetch(healthz).catch(() => undefined);
          await res?.body?.cancel();
          return res?.ok || undefined;
        }, 20_000);
      } catch (err) {
        wrapper.kill("SIGKILL");
        await wrapper.status;
        throw err;
      }
      wrapper.kill("SIGKILL");
      assert.equal((await wrapper.status).signal, "SIGKILL");
      await portClosed("HTTP", httpPort);
      await portClosed("gossip", gossipPort);
    },
  });
}
