/**
 * A Hono app written for Cloudflare Workers (typed `Bindings`, `c.env.NOTES` a KV namespace,
 * vars from wrangler.toml), unchanged but for Hono's import: Deno needs the `npm:` specifier
 * where a Workers project's bundler resolves `hono` from package.json.
 *
 * Run: `WORKER=examples/hono_kv/src/index.ts WORKER_CONFIG=examples/hono_kv/wrangler.toml
 * EDGE_PORT=8787 deno task run`, then `curl -X PUT --data hi localhost:8787/notes/a`.
 */

import { Hono } from "npm:hono@4.13.19";

type Bindings = {
  NOTES: KVNamespace;
  GREETING: string;
  MAX_NOTE_BYTES: string;
};

/** The part of Workers KV this app uses (from @cloudflare/workers-types). */
interface KVNamespace {
  get(key: string): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: { prefix?: string }): Promise<{ keys: { name: string }[] }>;
}

const app = new Hono<{ Bindings: Bindings }>();

app.get("/", (c) => c.text(c.env.GREETING));

app.get("/notes", async (c) => {
  const { keys } = await c.env.NOTES.list();
  return c.json(keys.map((k) => k.name));
});

app.get("/notes/:id", async (c) => {
  const note = await c.env.NOTES.get(c.req.param("id"));
  return note === null ? c.json({ error: "not found" }, 404) : c.text(note);
});

app.put("/notes/:id", async (c) => {
  const text = await c.req.text();
  if (text.length > Number(c.env.MAX_NOTE_BYTES)) return c.json({ error: "too long" }, 413);
  await c.env.NOTES.put(c.req.param("id"), text, { expirationTtl: 3600 });
  return c.json({ ok: true }, 201);
});

app.delete("/notes/:id", async (c) => {
  await c.env.NOTES.delete(c.req.param("id"));
  return c.body(null, 204);
});

export default app;
