/**
 * `GET /openapi.json`: it describes every route the app serves (each method of each path, with
 * an operationId and the bearer scheme), and Redocly's OpenAPI linter (recommended rules) finds
 * no error in it. The linter is a test-only dependency: it runs in a child `deno eval --no-lock`
 * (pinned by its full npm specifier), so neither the server nor deno.lock ever holds it.
 */

import assert from "node:assert/strict";
import { emptyDashboardState } from "../dashboard/mod.ts";
import type { NodeMetrics } from "../metrics/mod.ts";
import { createApp } from "./app.ts";
import { OPENAPI_DOCUMENT } from "./openapi.ts";
import { FakeKv } from "./_fake_kv.ts";

type Doc = {
  paths: Record<string, Record<string, { operationId?: string; responses: object }>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
};

/** Lints the document read from stdin; prints `[{severity, ruleId, message, pointer}]`. */
const LINT_PROGRAM = `
import { createConfig, lintFromString } from "npm:@redocly/openapi-core@2.64.0";
const source = await new Response(Deno.stdin.readable).text();
const config = await createConfig({ extends: ["recommended"] });
const problems = await lintFromString({ source, absoluteRef: "/openapi.json", config });
console.log(JSON.stringify(problems.map((p) => ({
  severity: p.severity, ruleId: p.ruleId, message: p.message, pointer: p.location[0]?.pointer,
}))));
`;

interface Problem {
  severity: string;
  ruleId: string;
  message: string;
  pointer?: string;
}

Deno.test("the OpenAPI document passes Redocly's recommended rules with no error", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-lock", LINT_PROGRAM],
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(240_000),
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(OPENAPI_DOCUMENT)));
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const problems: Problem[] = JSON.parse(new TextDecoder().decode(stdout));
  const errors = problems.filter((p) => p.severity === "error");
  assert.deepEqual(errors.map((p) => `${p.ruleId}: ${p.message} at ${p.pointer}`), []);
  // Warnings are allowed but listed, so a new one is seen.
  for (const p of problems) console.log(`${p.severity} ${p.ruleId}: ${p.message} at ${p.pointer}`);
});

Deno.test("the OpenAPI document describes every route of the app, each with an operationId", async () => {
  const metrics = { text: () => "", contentType: "text/plain" } as unknown as NodeMetrics;
  const dashboard = () => Promise.resolve(emptyDashboardState("n"));
  const app = createApp(new FakeKv(), { metrics, dashboard });
  const doc = OPENAPI_DOCUMENT as unknown as Doc;
  const served = new Set<string>();
  for (const r of app.routes) {
    if (r.method === "ALL") continue; // 405/400 fallbacks and middleware
    const path = r.path.replace(/:([a-z]+)/g, "{$1}");
    served.add(`${r.method.toLowerCase()} ${path}`);
    assert.ok(doc.paths[path]?.[r.method.toLowerCase()], `${r.method} ${path} is not described`);
  }
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (method === "parameters") continue;
      // HEAD is answered by each GET route (Hono), so it is not listed among the app's routes.
      const answeredAs = method === "head" ? "get" : method;
      assert.ok(served.has(`${answeredAs} ${path}`), `${method} ${path} is described, not served`);
      assert.ok(operation.operationId, `${method} ${path} has no operationId`);
      assert.ok(!ids.has(operation.operationId), `duplicate ${operation.operationId}`);
      ids.add(operation.operationId);
    }
  }
  assert.deepEqual(doc.components.securitySchemes.bearerAuth, {
    type: "http",
    scheme: "bearer",
    description: "AUTH_TOKEN",
  });
  const res = await app.request("/openapi.json");
  assert.deepEqual(await res.json(), JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
});
