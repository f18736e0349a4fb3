import assert from "node:assert/strict";
import { dashboardHtml } from "./page.ts";

Deno.test("dashboardHtml is one self-contained document whose script parses", () => {
  const html = dashboardHtml();
  // No CDN, no other origin: everything the page needs is inline.
  assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i);
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 1);
  // Parsed, not run: a syntax error here would otherwise show only in a browser.
  assert.doesNotThrow(() => new Function(scripts[0]));
  for (const id of ["events", "rows", "chart-requests", "key-rows", "auth", "unique", "copies"]) {
    assert.match(html, new RegExp(`id="${id}"`), `element #${id}`);
  }
});
