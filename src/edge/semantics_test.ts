import assert from "node:assert/strict";
import {
  bypassReason,
  notModified,
  parseCacheControl,
  storability,
  varyNames,
} from "./semantics.ts";

const NOW = Date.parse("2026-01-01T00:00:00Z");

function facts(headers: Record<string, string>, status = 200, defaultTtlMs = 0) {
  return {
    status,
    headers: new Headers(headers),
    requestTime: NOW,
    responseTime: NOW,
    defaultTtlMs,
  };
}

function fresh(headers: Record<string, string>, status = 200, defaultTtlMs = 0) {
  const s = storability(facts(headers, status, defaultTtlMs));
  return s.storable ? s.freshMs : s.reason;
}

Deno.test("Cache-Control: directives, arguments, quoted commas; malformed is absent", () => {
  const cc = parseCacheControl('public, Max-Age=60, no-cache="a,b", s-maxage="30"');
  assert.deepEqual([...cc], [["public", true], ["max-age", "60"], ["no-cache", "a,b"], [
    "s-maxage",
    "30",
  ]]);
  assert.equal(parseCacheControl("max-age=60, =oops").size, 0);
  assert.equal(parseCacheControl('max-age="60').size, 0);
  assert.equal(parseCacheControl("max-age=6 0").size, 0);
  assert.equal(parseCacheControl(null).size, 0);
});

Deno.test("freshness: s-maxage > max-age > Expires > default TTL", () => {
  assert.equal(fresh({ "cache-control": "max-age=60, s-maxage=5" }), 5000);
  assert.equal(
    fresh({ "cache-control": "max-age=60", expires: new Date(NOW + 1e6).toUTCString() }),
    60_000,
  );
  assert.equal(
    fresh({
      date: new Date(NOW).toUTCString(),
      expires: new Date(NOW + 120_000).toUTCString(),
    }),
    120_000,
  );
  assert.equal(fresh({}), "no freshness information");
  assert.equal(fresh({}, 200, 30_000), 30_000);
  // A malformed Cache-Control is ignored: the default TTL applies, not "max-age=60".
  assert.equal(fresh({ "cache-control": "max-age=60,,=x" }, 200, 7000), 7000);
  // An invalid Expires means already expired: only kept with a validator, to revalidate.
  assert.equal(fresh({ expires: "0" }), "stale on arrival, without validators");
  assert.equal(fresh({ expires: "0", etag: '"a"' }), 0);
});

Deno.test("not stored: no-store, private, Set-Cookie, Vary: *, uncacheable statuses", () => {
  assert.equal(fresh({ "cache-control": "no-store, max-age=60" }), "no-store");
  assert.equal(fresh({ "cache-control": "private, max-age=60" }), "private");
  assert.equal(fresh({ "cache-control": "max-age=60", "set-cookie": "a=b" }), "Set-Cookie");
  assert.equal(fresh({ "cache-control": "max-age=60", vary: "*" }), "Vary: *");
  assert.equal(fresh({ "cache-control": "max-age=60" }, 206), "status 206");
  assert.equal(fresh({ "cache-control": "max-age=60" }, 201), "status 201");
  // Heuristically cacheable statuses take the default TTL; others need explicit freshness.
  assert.equal(fresh({}, 404, 1000), 1000);
  assert.equal(fresh({}, 500, 1000), "status 500 without freshness");
  assert.equal(fresh({ "cache-control": "max-age=5" }, 500), 5000);
});

Deno.test("Age and the round trip count against freshness; stale windows (RFC 5861)", () => {
  const s = storability({
    ...facts({ "cache-control": "max-age=60, stale-while-revalidate=30, stale-if-error=600" }),
    responseTime: NOW + 2000,
  });
  assert.ok(s.storable);
  assert.deepEqual(
    [s.freshMs, s.initialAgeMs, s.staleWhileRevalidateMs, s.staleIfErrorMs],
    [60_000, 2000, 30_000, 600_000],
  );
  const aged = storability(facts({ "cache-control": "max-age=60", age: "100" }));
  assert.equal(aged.storable, false);
  const strict = storability(
    facts({ "cache-control": "max-age=60, must-revalidate, stale-if-error=600" }),
  );
  assert.ok(strict.storable && strict.staleIfErrorMs === 0);
  const noCache = storability(facts({ "cache-control": "no-cache, max-age=60", etag: '"x"' }));
  assert.ok(noCache.storable && noCache.freshMs === 0);
});

Deno.test("Vary names are normalised; bypass on methods, Authorization, unlisted cookies", () => {
  assert.deepEqual(varyNames(new Headers({ vary: "Accept-Encoding, accept-language" })), [
    "accept-encoding",
    "accept-language",
  ]);
  const allowed = new Set(["_ga"]);
  const req = (init: RequestInit) => new Request("http://edge/x", init);
  assert.equal(bypassReason(req({}), allowed), undefined);
  assert.equal(bypassReason(req({ method: "POST", body: "x" }), allowed), "method POST");
  assert.equal(
    bypassReason(req({ headers: { authorization: "Basic x" } }), allowed),
    "Authorization",
  );
  assert.equal(bypassReason(req({ headers: { cookie: "_ga=1" } }), allowed), undefined);
  assert.equal(bypassReason(req({ headers: { cookie: "_ga=1; sid=2" } }), allowed), "cookie sid");
});

Deno.test("conditional requests: If-None-Match (weak) decides, else If-Modified-Since", () => {
  const h = (init: Record<string, string>) => new Headers(init);
  assert.equal(notModified(h({ "if-none-match": 'W/"a", "b"' }), '"a"', null), true);
  assert.equal(notModified(h({ "if-none-match": '"c"' }), '"a"', null), false);
  assert.equal(notModified(h({ "if-none-match": "*" }), '"a"', null), true);
  const lm = new Date(NOW).toUTCString();
  assert.equal(notModified(h({ "if-modified-since": lm }), null, lm), true);
  assert.equal(
    notModified(h({ "if-modified-since": new Date(NOW - 1000).toUTCString() }), null, lm),
    false,
  );
  assert.equal(
    notModified(h({ "if-none-match": '"c"', "if-modified-since": lm }), '"a"', lm),
    false,
  );
});
