/**
 * The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json`. Written by hand
 * from the API contract (routes, statuses, headers; building blocks in `_openapi_parts.ts`).
 * `openapi_test.ts` checks that it describes every route the app serves and that a real OpenAPI
 * linter (Redocly's recommended rules) finds no error in it.
 *
 * @module
 */

import { VERSION } from "../util/version.ts";
import {
  AUTH_STATUSES,
  conditionHeaders,
  errors,
  header,
  json,
  jsonBody,
  keyParam,
  OPEN_STATUSES,
  query,
  responses,
  schemas,
  text,
  writeHeaders,
} from "./_openapi_parts.ts";

const schema = (name: string) => ({ $ref: `#/components/schemas/${name}` });

/** An operation behind the bearer token (when AUTH_TOKEN is set). */
function op(
  operationId: string,
  summary: string,
  answers: Record<string, unknown>,
  more: Record<string, unknown> = {},
) {
  return { operationId, summary, ...more, responses: { ...errors(...AUTH_STATUSES), ...answers } };
}

/** An operation open without the token (health probes, this document, the dashboard page). */
function open(operationId: string, summary: string, answers: Record<string, unknown>) {
  return {
    operationId,
    summary,
    security: [],
    responses: { ...errors(...OPEN_STATUSES), ...answers },
  };
}

const readHeaders = [
  header("X-Cache-Meta", "`true` adds ETag, X-Ttl-Ms, X-Cache-Metadata and Cache-Tag."),
  header("If-None-Match", "Entity tags (or `*`): 304 when one names the current version."),
];
const entryHeaders = {
  ETag: { description: "The write's version", schema: { type: "string" } },
  "X-Ttl-Ms": {
    description: "Remaining TTL in ms (absent: never expires)",
    schema: { type: "string" },
  },
  "X-Cache-Metadata": { description: "The entry's metadata (JSON)", schema: { type: "string" } },
  "Cache-Tag": { description: "The entry's tags, comma-separated", schema: { type: "string" } },
};
const value = {
  description:
    "The value: text/plain; charset=utf-8, or application/octet-stream. HEAD and X-Cache-Meta: true add the headers.",
  headers: entryHeaders,
  content: {
    "text/plain": { schema: { type: "string" } },
    "application/octet-stream": { schema: { type: "string", format: "binary" } },
  },
};
const notModified = {
  description: "If-None-Match names the current version (no body)",
  headers: { ETag: entryHeaders.ETag },
};
const miss = text("`Not Found` (missing or expired)");
const internal = (operationId: string, summary: string) =>
  op(operationId, summary, {
    "200": {
      description: "MessagePack answer",
      content: { "application/msgpack": { schema: { type: "string", format: "binary" } } },
    },
    ...errors(400, 408, 413, 415, 501),
  }, {
    tags: ["internal"],
    requestBody: {
      required: true,
      content: { "application/msgpack": { schema: { type: "string", format: "binary" } } },
    },
  });

/** The OpenAPI document. */
export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "cachenode",
    version: VERSION,
    description:
      "Distributed in-memory TTL cache. Compatible with the earlier Go service's API. With AUTH_TOKEN, every operation but the open ones needs `Authorization: Bearer <token>`.",
    license: { name: "MIT", identifier: "MIT" },
  },
  servers: [{ url: "/", description: "The node that serves this document" }],
  security: [{ bearerAuth: [] }],
  tags: [
    { name: "cache", description: "Keys and values" },
    { name: "cluster", description: "Membership, placement and node state" },
    { name: "internal", description: "Node-to-node replication (not for clients)" },
  ],
  paths: {
    "/cache/{key}": {
      parameters: [keyParam],
      get: op("getKey", "Read a key (304 with If-None-Match)", {
        "200": value,
        "304": notModified,
        "404": miss,
        ...errors(400, 414),
      }, { tags: ["cache"], parameters: readHeaders }),
      head: op("headKey", "Like GET without a body; carries ETag, X-Ttl-Ms and metadata", {
        "200": { description: "Hit", headers: entryHeaders },
        "304": notModified,
        "404": { description: "Miss" },
        ...errors(400, 414),
      }, { tags: ["cache"], parameters: readHeaders.slice(1) }),
      put: op("putKey", "Store a value (conditional with If-Match / If-None-Match: *)", {
        "200": text("`OK`"),
        ...errors(400, 408, 412, 413, 414, 415, 504),
      }, {
        tags: ["cache"],
        parameters: [
          ...writeHeaders,
          ...conditionHeaders,
          query("ttl", "TTL in seconds, for every content type (400 if the body gives one too).", {
            type: "number",
            minimum: 0,
          }),
          header("Cache-Tag", "Tags, comma-separated (when the body has no `tags`)."),
          header("X-Cache-Metadata", "Metadata as JSON (when the body has no `metadata`)."),
        ],
        requestBody: {
          required: true,
          content: {
            "application/json": { schema: schema("PutBody") },
            "text/plain": { schema: { type: "string" } },
            "application/octet-stream": { schema: { type: "string", format: "binary" } },
          },
        },
      }),
      delete: op("deleteKey", "Delete a key (idempotent; conditional with If-Match)", {
        "200": text("`OK`"),
        ...errors(400, 412, 414, 504),
      }, { tags: ["cache"], parameters: [...writeHeaders, conditionHeaders[0]] }),
    },
    "/cache/{key}/incr": {
      parameters: [keyParam],
      post: op("incrKey", "Add to an integer counter on the key's primary owner", {
        "200": json("The new value", {
          type: "object",
          required: ["value"],
          properties: { value: { type: "integer" } },
        }),
        ...errors(400, 405, 408, 409, 413, 414, 415, 504),
      }, {
        tags: ["cache"],
        parameters: [writeHeaders[1]],
        requestBody: jsonBody({
          type: "object",
          additionalProperties: false,
          properties: {
            by: { type: "integer", description: "Amount added (may be negative). Default 1." },
            ttl: { type: "number", minimum: 0, description: "TTL in seconds when created." },
          },
        }, false),
      }),
    },
    "/cache": {
      get: op("listKeys", "List keys by prefix, in key order, a page at a time (cluster-wide)", {
        "200": json("A page of keys", schema("ListPage")),
        ...errors(400),
      }, {
        tags: ["cache"],
        parameters: [
          query("prefix", "Only keys starting with this."),
          query("limit", "Keys per page.", {
            type: "integer",
            minimum: 1,
            maximum: 1000,
            default: 100,
          }),
          query("cursor", "The previous page's `cursor`."),
        ],
      }),
      delete: op("flushAll", "Delete every entry of the cluster (needs X-Confirm: flush-all)", {
        "200": json("How many live entries were deleted", {
          type: "object",
          required: ["flushed"],
          properties: { flushed: { type: "integer" } },
        }),
        ...errors(400),
      }, {
        tags: ["cache"],
        parameters: [{
          ...header("X-Confirm", "Must be `flush-all`.", { type: "string", enum: ["flush-all"] }),
          required: true,
        }],
      }),
    },
    "/batch": {
      post: op("batch", "Up to 1,000 gets, puts and deletes, each with its own status", {
        "200": json("One result per op, in order", {
          type: "object",
          required: ["results"],
          properties: { results: { type: "array", items: schema("BatchResult") } },
        }),
        ...errors(400, 405, 408, 413, 415),
      }, {
        tags: ["cache"],
        parameters: writeHeaders,
        requestBody: jsonBody({
          type: "object",
          required: ["ops"],
          additionalProperties: false,
          properties: { ops: { type: "array", maxItems: 1000, items: schema("BatchOp") } },
        }),
      }),
    },
    "/purge": {
      post: op("purge", "Delete entries by tag, key or edge URL, cluster-wide", {
        "200": json("How many live entries were deleted", {
          type: "object",
          required: ["purged"],
          properties: { purged: { type: "integer" } },
        }),
        ...errors(400, 405, 408, 413, 414, 415),
      }, {
        tags: ["cache"],
        requestBody: jsonBody({
          type: "object",
          additionalProperties: false,
          properties: {
            tags: { type: "array", maxItems: 1000, items: { type: "string" } },
            keys: { type: "array", maxItems: 1000, items: { type: "string" } },
            urls: {
              type: "array",
              maxItems: 1000,
              items: { type: "string" },
              description: "Edge cache URLs (absolute or /path?query): every variant is purged.",
            },
          },
        }),
      }),
    },
    "/watch": {
      get: op("watch", "Server-Sent Events of changes applied on this node", {
        "200": {
          description:
            '`event: put|delete|expire` with `data: {"key": "...", "version": "<etag>"}`; a reader too far behind gets `event: overflow` and the stream ends.',
          content: { "text/event-stream": { schema: { type: "string" } } },
        },
        ...errors(400),
      }, { tags: ["cache"], parameters: [query("prefix", "Only keys starting with this.")] }),
    },
    "/cache/members": {
      get: op("compatMembers", "Compat member list (alive and suspect members)", {
        "200": json("Members", {
          type: "array",
          items: {
            type: "object",
            properties: {
              name: { type: "string" },
              addr: { type: "string", description: "ip:port" },
              port: { type: "integer" },
              http_port: { type: "integer" },
            },
          },
        }),
      }, { tags: ["cluster"] }),
    },
    "/cluster/members": {
      get: op("members", "Every known member with state, incarnation and metadata", {
        "200": json("Members", { type: "array", items: schema("Member") }),
      }, { tags: ["cluster"] }),
    },
    "/cluster/ring": {
      get: op("ring", "Key placement: copies per key, buckets per member and balance", {
        "200": json("Placement"),
      }, {
        tags: ["cluster"],
        parameters: [query("key", "Also show this key's bucket and owners")],
      }),
    },
    "/cluster/topology": {
      get: op("topology", "Members and bucket owners, for clients that route keys to owners", {
        "200": json("Topology", schema("Topology")),
      }, { tags: ["cluster"] }),
    },
    "/stats": {
      get: op("stats", "Node counters as JSON", { "200": json("stats") }, { tags: ["cluster"] }),
    },
    "/metrics": {
      get: op("metrics", "Prometheus metrics", {
        "200": text("Prometheus text exposition format"),
      }, { tags: ["cluster"] }),
    },
    "/dashboard/state": {
      get: op("dashboardState", "The dashboard's data: the cluster's, or this node's own", {
        "200": json(
          "The members, keys, merged timeline and per-second series (scope=cluster), " +
            "or this node's summary and history (scope=local)",
        ),
        ...errors(400),
      }, {
        tags: ["cluster"],
        parameters: [
          query("scope", "`local`: this node's own history (what peers merge).", {
            type: "string",
            enum: ["cluster", "local"],
            default: "cluster",
          }),
        ],
      }),
    },
    "/healthz": {
      get: open("health", "Process is up", {
        "200": json("ok, and cachenode's version", {
          type: "object",
          properties: { status: { const: "ok" }, version: { type: "string" } },
        }),
      }),
    },
    "/readyz": {
      get: open("ready", "Ready to serve", {
        "200": json("ready", { type: "object", properties: { ready: { type: "boolean" } } }),
        "503": json("not ready, with a reason", {
          type: "object",
          properties: { ready: { type: "boolean" }, reason: { type: "string" } },
        }),
      }),
    },
    "/": {
      get: open("dashboard", "Cluster dashboard (HTML)", {
        "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } },
      }),
    },
    "/openapi.json": {
      get: open("openapi", "This document", { "200": json("OpenAPI 3.1") }),
    },
    "/internal/replicate": { post: internal("replicate", "Apply a batch of replicated records") },
    "/internal/sync": { post: internal("sync", "Anti-entropy digest exchange") },
    "/internal/read": { post: internal("internalRead", "Read one key from this node's store") },
    "/internal/list": { post: internal("internalList", "A page of this node's keys (listing)") },
    "/internal/purge": { post: internal("internalPurge", "Purge by tags or keys on this node") },
    "/internal/edge": {
      post: op("internalEdge", "A peer's edge miss, answered as the key's primary owner", {
        "200": {
          description: "The edge's answer (any origin status; X-Cache, X-Edge-Answer: 1)",
          content: { "*/*": { schema: { type: "string", format: "binary" } } },
        },
        ...errors(400, 408, 413, 415, 501),
      }, {
        tags: ["internal"],
        requestBody: jsonBody({
          type: "object",
          required: ["target", "head", "headers"],
          properties: {
            target: { type: "string" },
            head: { type: "boolean" },
            headers: {
              type: "array",
              items: { type: "array", items: { type: "string" }, minItems: 2, maxItems: 2 },
            },
          },
        }),
      }),
    },
    "/internal/stream": {
      get: op("replicationStream", "WebSocket of replication frames between nodes", {
        "101": { description: "Switching to WebSocket" },
        ...errors(400, 426),
      }, { tags: ["internal"] }),
    },
  },
  components: {
    securitySchemes: {
      bearerAuth: { type: "http", scheme: "bearer", description: "AUTH_TOKEN" },
    },
    schemas,
    responses,
  },
} as const;
