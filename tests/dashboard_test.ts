/**
 * The dashboard in real headless Chromium (Debian's `chromium`, driven over the DevTools protocol
 * by `testing/headless_chromium.ts`): a 3-node cluster's page lists the members alive, a SIGKILLed
 * node turns suspect/dead on the page, and a screenshot is saved to docs/dashboard.png. Without Chromium the test is reported as
 * ignored, with the reason.
 */

import assert from "node:assert/strict";
import { HeadlessChromium, startCluster, waitFor } from "../testing/mod.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (await Deno.stat(CHROMIUM).catch(() => undefined)) !== undefined;

Deno.test({
  name: `dashboard shows the cluster and a killed node turning dead, in Chromium${
    hasChromium ? "" : " (skipped: /usr/bin/chromium not installed; apt: chromium)"
  }`,
  ignore: !hasChromium,
  async fn() {
    const nodes = await startCluster("dash", 3, {
      GOSSIP_PROFILE: "local",
      PROBE_INTERVAL: "400ms",
      PROBE_TIMEOUT: "150ms",
    });
    const browser = await HeadlessChromium.launch(CHROMIUM, [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ]);
    try {
      for (let i = 0; i < 20; i++) {
        await fetch(nodes[0].url(`/cache/k${i}`), {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ value: `value ${i}` }),
        }).then((r) => r.text());
      }
      const page = await browser.newPage({ width: 1100, height: 620 });
      await page.goto(nodes[0].url("/"));
      const stateOf = (name: string) => page.textContent(`tr[data-member="${name}"] .state`);
      await waitFor("3 members alive on the page", async () => {
        const states = await Promise.all(nodes.map((n) => stateOf(n.env.NODE_NAME)));
        return states.every((s) => s === "alive") || undefined;
      }, 15_000);
      assert.equal(await page.textContent("#n-alive"), "3");
      const victim = nodes[2].env.NODE_NAME;
      await nodes[2].stop("SIGKILL");
      const seen = new Set<string>();
      await waitFor(
        `${victim} dead on the page`,
        async () => {
          const s = await stateOf(victim);
          if (s) seen.add(s);
          return s === "dead" || undefined;
        },
        20_000,
        100,
      );
      console.log(`states shown for the killed node: ${[...seen].join(" → ")}`);
      assert.ok(
        (await page.textContent("#events"))?.includes(`${victim}: `),
        "the timeline records the state change",
      );
      await page.screenshot(new URL("../docs/dashboard.png", import.meta.url).pathname);
    } finally {
      await browser.close();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});
