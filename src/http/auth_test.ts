import assert from "node:assert/strict";
import { BearerAuth, DASHBOARD_COOKIE, pathOf, timingSafeEqual } from "./auth.ts";

const TOKEN = "s3cret-token_0123456789";
const auth = new BearerAuth({ token: TOKEN });
const req = (path: string, init: RequestInit = {}) => new Request(`http://h:1${path}`, init);
const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

Deno.test("timingSafeEqual compares whole strings of any length", () => {
  assert.ok(timingSafeEqual("abc", "abc"));
  assert.ok(timingSafeEqual("", ""));
  assert.ok(!timingSafeEqual("abd", "abc"));
  assert.ok(!timingSafeEqual("ab", "abc"), "a prefix is not equal");
  assert.ok(!timingSafeEqual("abcd", "abc"), "an extension is not equal");
  assert.ok(!timingSafeEqual("", "abc"));
  assert.ok(!timingSafeEqual("ab\0", "ab"));
});

Deno.test("pathOf takes the path without query or fragment", () => {
  assert.equal(pathOf("http://h:1/cache/a?x=1"), "/cache/a");
  assert.equal(pathOf("http://h:1/a#b?c"), "/a");
  assert.equal(pathOf("http://h:1/"), "/");
  assert.equal(pathOf("http://h:1"), "/");
});

Deno.test("BearerAuth accepts the right token only, with the scheme in any case", () => {
  assert.ok(auth.accepts(req("/cache/k", bearer(TOKEN))));
  assert.ok(auth.accepts(req("/cache/k", { headers: { authorization: `bearer ${TOKEN}` } })));
  assert.ok(!auth.accepts(req("/cache/k", bearer(`${TOKEN}x`))));
  assert.ok(!auth.accepts(req("/cache/k", bearer(TOKEN.slice(0, -1)))));
  assert.ok(!auth.accepts(req("/cache/k", { headers: { authorization: `Basic ${TOKEN}` } })));
  assert.ok(!auth.accepts(req("/cache/k", { headers: { authorization: TOKEN } })));
  assert.ok(!auth.accepts(req("/cache/k")));
  assert.equal(auth.authorization, `Bearer ${TOKEN}`);
  assert.throws(() => new BearerAuth({ token: "" }), RangeError);
});

Deno.test("BearerAuth.check refuses every route but the open ones", async () => {
  for (const path of ["/healthz", "/readyz", "/openapi.json", "/"]) {
    assert.equal(auth.check(req(path)), undefined, path);
  }
  assert.ok(auth.check(req("/", { method: "POST" })), "only GET/HEAD of the page are open");
  for (
    const path of [
      "/cache/k",
      "/cache/members",
      "/stats",
      "/metrics",
      "/cluster/members",
      "/dashboard/state",
      "/internal/replicate",
      "/internal/stream",
      "/no/such/route",
      "/healthz/x",
    ]
  ) {
    const missing = auth.check(req(path));
    assert.equal(missing?.status, 401, path);
    assert.equal(missing?.headers.get("www-authenticate"), `Bearer realm="cachenode"`);
    assert.match((await missing!.json()).error, /Missing bearer token/);
    const wrong = auth.check(req(path, bearer("wrong-token-0123456789")));
    assert.equal(wrong?.status, 401, path);
    assert.match(wrong!.headers.get("www-authenticate")!, /error="invalid_token"/);
    assert.equal(auth.check(req(path, bearer(TOKEN))), undefined, path);
  }
});

Deno.test("BearerAuth lets the dashboard poll its state with a query token or cookie", () => {
  const state = (init: RequestInit & { query?: string } = {}) =>
    auth.check(req(`/dashboard/state${init.query ?? ""}`, init));
  assert.equal(state({ query: `?token=${TOKEN}` }), undefined);
  assert.equal(state({ query: "?token=nope" })?.status, 401);
  assert.equal(state({ headers: { cookie: `a=b; ${DASHBOARD_COOKIE}=${TOKEN}` } }), undefined);
  assert.equal(state({ headers: { cookie: `${DASHBOARD_COOKIE}=nope` } })?.status, 401);
  assert.equal(state({ headers: { cookie: `${DASHBOARD_COOKIE}=%E0%A4%A` } })?.status, 401);
  // The query token and the cookie work on that route only.
  assert.equal(auth.check(req(`/stats?token=${TOKEN}`))?.status, 401);
  assert.equal(
    auth.check(req("/stats", { headers: { cookie: `${DASHBOARD_COOKIE}=${TOKEN}` } }))
      ?.status,
    401,
  );
});

Deno.test("BearerAuth.dashboardCookie is set only for the right token, scoped and HttpOnly", () => {
  assert.equal(auth.dashboardCookie(req("/")), undefined);
  assert.equal(auth.dashboardCookie(req("/?token=nope")), undefined);
  const cookie = auth.dashboardCookie(req(`/?token=${TOKEN}`));
  assert.equal(
    cookie,
    `${DASHBOARD_COOKIE}=${TOKEN}; Path=/dashboard/state; HttpOnly; SameSite=Strict`,
  );
  const secure = new BearerAuth({ token: TOKEN, secureCookie: true });
  assert.match(secure.dashboardCookie(req(`/?token=${TOKEN}`))!, /; Secure$/);
});
