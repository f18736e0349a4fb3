/**
 * The OpenAPI 3.1 description of the HTTP API, served at `GET /openapi.json`. Written by hand
 * from the API contract (routes, statuses, headers); a test checks that every route it lists is
 * answered by the app.
 *
 * @module
 */

import { VERSION } from "../util/version.ts";

const error = { $ref: "#/components/responses/Error" };
const keyParam = {
  name: "key",
  in: "path",
  required: true,
  description: "The key, percent-decoded (e.g. `a%20b` is `a b`); at most MAX_KEY_BYTES bytes.",
  schema: { type: "string" },
};
const syncHeader = {
  name: "X-Is-Sync",
  in: "header",
  description:
    "`true`: apply or read on this node only (not replicated; in partitioned mode not forwarded).",
  schema: { type: "string", enum: ["true"] },
};
const acksHeader = {
  name: "X-Write-Acks",
  in: "header",
  description: "`all` or a number: wait for that many live replicas to confirm (504 on timeout).",
  schema: { type: "string" },
};
const text = (description: string) => ({
  description,
  content: { "text/plain": { schema: { type: "string" } } },
});
const json = (description: string, schema: unknown = { type: "object" }) => ({
  description,
  content: { "application/json": { schema } },
});

/** The OpenAPI document. */
export const OPENAPI_DOCUMENT = {
  openapi: "3.1.0",
  info: {
    title: "cachenode",
    version: VERSION,
    description: "Distributed in-memory TTL cache. Compatible with the earlier Go service's API.",
  },
  paths: {
    "/cache/{key}": {
      parameters: [keyParam],
      get: {
        summary: "Read a key from this node's replica",
        parameters: [{
          name: "X-Cache-Meta",
          in: "header",
          description: "`true` adds ETag and X-Ttl-Ms (HEAD always has them).",
          schema: { type: "string" },
        }],
        responses: {
          "200": {
            description: "The value: text/plain; charset=utf-8, or application/octet-stream.",
          },
          "404": text("`Not Found` (missing or expired)"),
          "400": error,
          "414": error,
          "503": error,
        },
      },
      head: {
        summary: "Like GET without a body; carries ETag and X-Ttl-Ms",
        responses: { "200": { description: "Hit" }, "404": { description: "Miss" } },
      },
      put: {
        summary: "Store a value",
        parameters: [
          syncHeader,
          acksHeader,
          {
            name: "ttl",
            in: "query",
            description: "TTL in seconds for raw (text/plain, octet-stream) bodies.",
            schema: { type: "number" },
          },
        ],
        requestBody: {
          required: true,
          content: {
            "application/json": {
              schema: {
                type: "object",
                required: ["value"],
                properties: {
                  value: { type: "string" },
                  duration: {
                    description: "TTL in nanoseconds (decimal string or integer); 0 = no expiry.",
                    oneOf: [{ type: "string", pattern: "^[0-9]+$" }, { type: "integer" }],
                  },
                  ttl: { type: "number", minimum: 0, description: "TTL in seconds." },
                },
              },
            },
            "text/plain": { schema: { type: "string" } },
            "application/octet-stream": { schema: { type: "string", format: "binary" } },
          },
        },
        responses: {
          "200": text("`OK`"),
          "400": error,
          "413": error,
          "414": error,
          "415": error,
          "408": error,
          "503": error,
          "504": error,
        },
      },
      delete: {
        summary: "Delete a key (idempotent)",
        parameters: [syncHeader, acksHeader],
        responses: { "200": text("`OK`"), "400": error, "503": error, "504": error },
      },
    },
    "/cache/members": {
      get: {
        summary: "Compat member list (alive and suspect members)",
        responses: {
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
        },
      },
    },
    "/cluster/members": {
      get: {
        summary: "Every known member with state, incarnation and metadata",
        responses: { "200": json("Members", { type: "array", items: { type: "object" } }) },
      },
    },
    "/cluster/ring": {
      get: {
        summary: "Key placement: copies per key, buckets per member and balance (REPLICAS=N)",
        parameters: [{
          name: "key",
          in: "query",
          required: false,
          description: "Also show this key's bucket and owners",
          schema: { type: "string" },
        }],
        responses: { "200": json("Placement", { type: "object" }) },
      },
    },
    "/healthz": {
      get: {
        summary: "Process is up",
        responses: {
          "200": json("ok, and cachenode's version", {
            type: "object",
            properties: { status: { const: "ok" }, version: { type: "string" } },
          }),
        },
      },
    },
    "/readyz": {
      get: {
        summary: "Ready to serve",
        responses: { "200": json("ready"), "503": json("not ready, with a reason") },
      },
    },
    "/stats": { get: { summary: "Node counters as JSON", responses: { "200": json("stats") } } },
    "/metrics": {
      get: {
        summary: "Prometheus metrics",
        responses: { "200": { description: "Prometheus text exposition format" } },
      },
    },
    "/": {
      get: { summary: "Cluster dashboard (HTML)", responses: { "200": { description: "HTML" } } },
    },
    "/openapi.json": {
      get: { summary: "This document", responses: { "200": json("OpenAPI 3.1") } },
    },
  },
  components: {
    responses: {
      Error: json("Error", {
        type: "object",
        required: ["error"],
        properties: { error: { type: "string" } },
      }),
    },
  },
} as const;
