/**
 * The dashboard in real headless Chromium (Debian's `chromium`, driven over the DevTools protocol
 * by `testing/headless_chromium.ts`) against 3 real nodes with `AUTH_TOKEN` set: a node is
 * SIGKILLed and the page is opened only 10 s later, so what it shows of the incident comes from
 * the nodes' own history, not from the browser having watched. The page asks for the token; its
 * timeline holds the death; its charts move; its key browser finds keys by prefix and deletes
 * one. With `UPDATE_SCREENSHOTS=1` it writes docs/dashboard.png and docs/dashboard-keys.png.
 * A second, short test: a node without `AUTH_TOKEN` serves the page and its key browser as is.
 * Without Chromium the test is reported as ignored, with the reason.
 */

import assert from "node:assert/strict";
import {
  HeadlessChromium,
  NodeProcess,
  startCluster,
  waitFor,
  waitForState,
} from "../testing/mod.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = (await Deno.stat(CHROMIUM).catch(() => undefined)) !== undefined;
const UPDATE_SCREENSHOTS = Deno.env.get("UPDATE_SCREENSHOTS") === "1";
const TOKEN = "dashboard-test-token-0123456789";
const auth = { authorization: `Bearer ${TOKEN}` };

async function put(node: NodeProcess, key: string, body: Record<string, unknown>) {
  const res = await fetch(node.url(`/cache/${encodeURIComponent(key)}`), {
    method: "PUT",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.body?.cancel();
  assert.equal(res.status, 200, `PUT ${key}`);
}

/** `n` reads of existing and missing keys, so the request and hit-ratio charts have data. */
async function load(node: NodeProcess, n: number) {
  for (let i = 0; i < n; i++) {
    const res = await fetch(node.url(`/cache/user:${i % 30}`), { headers: auth });
    await res.body?.cancel();
  }
}

function launchBrowser(): Promise<HeadlessChromium> {
  return HeadlessChromium.launch(CHROMIUM, [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ]);
}

Deno.test({
  name:
    `dashboard opened 10 s after a SIGKILL shows the death, moving charts and a key browser, in Chromium${
      hasChromium ? "" : " (skipped: /usr/bin/chromium not installed; apt: chromium)"
    }`,
  ignore: !hasChromium,
  async fn() {
    const nodes = await startCluster("dash", 3, {
      GOSSIP_PROFILE: "local",
      PROBE_INTERVAL: "400ms",
      PROBE_TIMEOUT: "150ms",
      AUTH_TOKEN: TOKEN,
    });
    const browser = await launchBrowser();
    try {
      const [seed, other, victim] = nodes;
      const victimName = victim.env.NODE_NAME;
      await waitForState([seed, other], victimName, "alive", 15_000);
      for (let i = 0; i < 20; i++) await put(seed, `user:${i}`, { value: `value ${i}`, ttl: 600 });
      await put(seed, "user:1", { value: "first", metadata: { owner: "ann" }, tags: ["vip"] });
      await put(seed, "other", { value: "x" });
      await load(seed, 60);

      const killedAt = Date.now();
      await victim.stop("SIGKILL");
      await waitForState([seed, other], victimName, "dead", 20_000);
      // The point of the test: the page was not watching when the node died.
      await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 10_000 - Date.now())));

      const page = await browser.newPage({ width: 1200, height: 1000 });
      await page.goto(seed.url("/"));
      await waitFor(
        "the page to ask for the token",
        () =>
          page.evaluate<boolean>(`document.getElementById("auth").classList.contains("shown")`)
            .then((shown) => shown || undefined),
      );
      await page.evaluate(
        `document.getElementById("token").value = ${JSON.stringify(TOKEN)};
         document.getElementById("auth").requestSubmit();`,
      );
      const deathShown = `#events [data-kind="dead"][data-member="${victimName}"]`;
      await waitFor(
        "the death in the timeline",
        async () => (await page.textContent(deathShown)) ?? undefined,
        10_000,
      );
      const death = (await page.textContent(deathShown))!;
      assert.match(death, /seen by/);
      console.log(`timeline entry: ${death}`);
      assert.ok(
        await page.textContent(`#events [data-kind="suspect"][data-member="${victimName}"]`),
      );
      assert.equal(await page.textContent("#n-dead"), "1");
      assert.equal(await page.textContent("#n-alive"), "2");
      // 21 keys, a copy of each on both live nodes (full replication).
      await waitFor(
        "unique keys and copies",
        async () =>
          (await page.textContent("#unique")) === "21" &&
            (await page.textContent("#copies")) === "42" || undefined,
      );
      const rows = await page.evaluate<string[]>(
        `[...document.querySelectorAll("#rows tr")].map((r) => r.dataset.member)`,
      );
      assert.deepEqual(rows, nodes.map((n) => n.env.NODE_NAME).sort());
      assert.match((await page.textContent("#ready"))!, /ready/);
      assert.match((await page.textContent("#version"))!, /^\d+\.\d+\.\d+/);

      // Charts move: the requests line changes from one poll to a later one.
      const line = `document.querySelector("#chart-requests polyline").getAttribute("points")`;
      const before = await page.evaluate<string>(line);
      assert.ok(before.split(" ").length >= 10, "the chart shows the seconds before the page");
      await load(seed, 40);
      await waitFor(
        "the requests chart to move",
        async () => (await page.evaluate<string>(line)) !== before || undefined,
        5_000,
        100,
      );
      if (UPDATE_SCREENSHOTS) {
        await page.screenshot(new URL("../docs/dashboard.png", import.meta.url).pathname);
      }

      // Key browser: prefix search, then delete one key (two clicks).
      await page.evaluate(
        `document.getElementById("prefix").value = "user:1";
         document.getElementById("search").requestSubmit();`,
      );
      const keys = () =>
        page.evaluate<string[]>(
          `[...document.querySelectorAll("#key-rows tr[data-key]")].map((r) => r.dataset.key)`,
        );
      await waitFor("the keys by prefix", async () => (await keys()).length === 11 || undefined);
      assert.deepEqual(
        (await keys()).sort(),
        ["user:1", ...Array.from({ length: 10 }, (_, i) => `user:1${i}`)].sort(),
      );
      const first = await page.textContent(`#key-rows tr[data-key="user:1"]`);
      assert.match(first!, /"owner":"ann"/);
      assert.match(first!, /vip/);
      assert.match(first!, /5 B/); // "first"
      if (UPDATE_SCREENSHOTS) {
        await page.evaluate(`document.getElementById("keys-section").scrollIntoView()`);
        await page.screenshot(new URL("../docs/dashboard-keys.png", import.meta.url).pathname);
      }
      const del = `document.querySelector('#key-rows button[data-delete="user:10"]').click()`;
      await page.evaluate(del);
      await page.evaluate(del);
      await waitFor(
        "user:10 gone from the browser",
        async () =>
          !(await keys()).includes("user:10") && (await keys()).length === 10 || undefined,
      );
      await waitFor("user:10 deleted on the other node too", async () => {
        const res = await fetch(other.url("/cache/user:10"), { headers: auth });
        await res.body?.cancel();
        return res.status === 404 || undefined;
      });
    } finally {
      await browser.close();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  },
});

Deno.test({
  name: `dashboard without AUTH_TOKEN asks for nothing and browses keys, in Chromium${
    hasChromium ? "" : " (skipped: /usr/bin/chromium not installed; apt: chromium)"
  }`,
  ignore: !hasChromium,
  async fn() {
    const node = await NodeProcess.start({ NODE_NAME: "solo" });
    const browser = await launchBrowser();
    try {
      const res = await fetch(node.url("/cache/greeting"), {
        method: "PUT",
        body: '{"value":"hi"}',
      });
      await res.body?.cancel();
      const page = await browser.newPage({ width: 1000, height: 700 });
      await page.goto(node.url("/"));
      await waitFor(
        "the member row",
        () => page.textContent(`tr[data-member="solo"]`).then((t) => t ?? undefined),
      );
      assert.equal(
        await page.evaluate<boolean>(`document.getElementById("auth").classList.contains("shown")`),
        false,
      );
      await page.evaluate(
        `document.getElementById("prefix").value = "gr"; document.getElementById("search").requestSubmit();`,
      );
      await waitFor(
        "the key by prefix",
        () => page.textContent(`#key-rows tr[data-key="greeting"]`).then((t) => t ?? undefined),
      );
    } finally {
      await browser.close();
      await node.stop();
    }
  },
});
