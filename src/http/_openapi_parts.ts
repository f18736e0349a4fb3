/**
 * The building blocks of `openapi.ts` (parameters, schemas, responses shared by several
 * operations), kept apart so the document itself reads as the list of routes.
 *
 * @module
 */

const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });

/** The JSON error answer (`{"error": "..."}`), by status. */
export const errors = (...statuses: number[]): Record<string, unknown> =>
  Object.fromEntries(statuses.map((s) => [String(s), ref(ERROR_NAMES[s] ?? "Error")]));

const ERROR_NAMES: Record<number, string> = {
  401: "Unauthorized",
  405: "MethodNotAllowed",
  503: "Unavailable",
  504: "AcksTimeout",
};

/** Statuses every operation may answer: 500 (a bug), 503 (MAX_IN_FLIGHT reached). */
export const OPEN_STATUSES = [500, 503];
/** Statuses of every operation behind the token: those, and 401 without it. */
export const AUTH_STATUSES = [401, ...OPEN_STATUSES];

/** A `text/plain` answer. */
export const text = (description: string) => ({
  description,
  content: { "text/plain": { schema: { type: "string" } } },
});

/** A JSON answer with `schema`. */
export const json = (description: string, schema: unknown = { type: "object" }) => ({
  description,
  content: { "application/json": { schema } },
});

/** A JSON request body with `schema`. */
export const jsonBody = (schema: unknown, required = true) => ({
  required,
  content: { "application/json": { schema } },
});

/** The `{key}` path parameter. */
export const keyParam = {
  name: "key",
  in: "path",
  required: true,
  description: "The key, percent-decoded (e.g. `a%20b` is `a b`); at most MAX_KEY_BYTES bytes.",
  schema: { type: "string" },
};

/** A header parameter. */
export const header = (
  name: string,
  description: string,
  schema: unknown = { type: "string" },
) => ({
  name,
  in: "header",
  description,
  schema,
});

/** A query parameter. */
export const query = (name: string, description: string, schema: unknown = { type: "string" }) => ({
  name,
  in: "query",
  required: false,
  description,
  schema,
});

/** `X-Is-Sync` and `X-Write-Acks`, the options of every write. */
export const writeHeaders = [
  header(
    "X-Is-Sync",
    "`true`: apply on this node only (not replicated; in partitioned mode not forwarded).",
    { type: "string", enum: ["true"] },
  ),
  header(
    "X-Write-Acks",
    "`all` or a number: wait for that many live replicas to confirm (504 on timeout; 503 at once when more than the live members).",
  ),
];

/** `If-Match` and `If-None-Match` of a write. */
export const conditionHeaders = [
  header(
    "If-Match",
    "One entity tag (as ETag shows it): apply only if the key's current version is this one, else 412. A tag that is not one of ours never matches (412). `*`: the key must exist.",
  ),
  header("If-None-Match", "`*`: create only; 412 if the key exists.", {
    type: "string",
    enum: ["*"],
  }),
];

const metadata = {
  type: "object",
  description: "Free-form JSON object, at most 1 KiB serialized (413 beyond).",
};
const tags = {
  type: "array",
  maxItems: 32,
  items: { type: "string", minLength: 1, maxLength: 128, pattern: "^[^,]+$" },
  description: "Tags for POST /purge (at most 32, each 1..128 bytes without commas).",
};
const ttl = { type: "number", minimum: 0, description: "TTL in seconds (fractions allowed)." };
const duration = {
  description: "TTL in nanoseconds (decimal string or integer); 0 = no expiry.",
  oneOf: [{ type: "string", pattern: "^[0-9]+$" }, { type: "integer", minimum: 0 }],
};
const encoding = {
  type: "string",
  enum: ["utf-8", "base64"],
  description: "`base64`: `value` is base64 of bytes (stored as application/octet-stream).",
};

/** The schemas of the document (`#/components/schemas/...`). */
export const schemas = {
  Error: { type: "object", required: ["error"], properties: { error: { type: "string" } } },
  PutBody: {
    type: "object",
    required: ["value"],
    additionalProperties: false,
    properties: { value: { type: "string" }, encoding, duration, ttl, metadata, tags },
  },
  BatchOp: {
    type: "object",
    required: ["op", "key"],
    additionalProperties: false,
    properties: {
      op: { type: "string", enum: ["get", "put", "delete"] },
      key: { type: "string" },
      value: { type: "string" },
      encoding,
      duration,
      ttl,
      metadata,
      tags,
    },
  },
  BatchResult: {
    type: "object",
    required: ["status"],
    properties: {
      status: { type: "integer", description: "The status the single request would get." },
      value: { type: "string", description: "A get's value." },
      encoding: { type: "string", enum: ["base64"], description: "Present when value is bytes." },
      error: { type: "string" },
    },
  },
  ListPage: {
    type: "object",
    required: ["keys", "list_complete"],
    properties: {
      keys: {
        type: "array",
        items: {
          type: "object",
          required: ["name"],
          properties: {
            name: { type: "string" },
            expiration_ms: { type: "integer", description: "Expiry, epoch ms (absent: never)." },
            metadata,
          },
        },
      },
      list_complete: { type: "boolean" },
      cursor: { type: "string", description: "Pass as `cursor` for the next page." },
    },
  },
  Member: {
    type: "object",
    properties: {
      name: { type: "string" },
      addr: { type: "string" },
      port: { type: "integer" },
      http_port: { type: "integer" },
      state: { type: "string", enum: ["alive", "suspect", "dead", "left"] },
      incarnation: { type: "integer" },
      meta: {},
    },
  },
  Topology: {
    type: "object",
    description: "What a client routes by: live members and every bucket's owners.",
    required: ["self", "replicas", "buckets", "members", "perBucket", "owners"],
    properties: {
      self: { type: "string", description: "The answering node." },
      replicas: { type: "integer", description: "Copies per key; 0 = every node holds every key." },
      buckets: {
        type: "integer",
        description: "Power of two; a key's bucket is FNV-1a lane 1 of the key & (buckets - 1).",
      },
      members: {
        type: "array",
        description: "Live members, sorted by name.",
        items: {
          type: "object",
          required: ["name", "host", "httpPort"],
          properties: {
            name: { type: "string" },
            host: { type: "string" },
            httpPort: { type: "integer" },
          },
        },
      },
      perBucket: {
        type: "integer",
        description:
          "Owners listed per bucket: the copies, or 1 (the primary) in full replication.",
      },
      owners: {
        type: "string",
        format: "byte",
        description: "Base64 of 16-bit little-endian member indexes; entry b * perBucket + i is " +
          "bucket b's i-th owner, best first.",
      },
    },
  },
};

/** The shared responses (`#/components/responses/...`). */
export const responses = {
  Error: json("Error", { $ref: "#/components/schemas/Error" }),
  Unauthorized: {
    description: "Missing or wrong bearer token (AUTH_TOKEN); WWW-Authenticate says how.",
    headers: { "WWW-Authenticate": { schema: { type: "string" } } },
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  },
  MethodNotAllowed: {
    description: "Method not allowed here; Allow lists those that are.",
    headers: { Allow: { schema: { type: "string" } } },
    content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
  },
  Unavailable: {
    description:
      "Not available now: MAX_IN_FLIGHT reached (with Retry-After), no owner reachable, replication not running, or (X-Write-Acks) more acks asked than live members (with `required` and `live`).",
    headers: { "Retry-After": { schema: { type: "string" } } },
    content: {
      "application/json": {
        schema: {
          type: "object",
          required: ["error"],
          properties: {
            error: { type: "string" },
            required: { type: "integer" },
            live: { type: "integer" },
          },
        },
      },
    },
  },
  AcksTimeout: json("X-Write-Acks not confirmed in time (the write stays applied)", {
    type: "object",
    required: ["error", "acks", "required"],
    properties: {
      error: { type: "string" },
      acks: { type: "integer" },
      required: { type: "integer" },
    },
  }),
};
