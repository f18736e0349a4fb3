/**
 * `POST /batch`: up to {@link MAX_BATCH_OPS} gets, puts and deletes in one request, applied in
 * order. Each op is run as the single request it stands for (`GET`, `PUT` with a JSON body,
 * `DELETE /cache/{key}`) through the same {@link CacheRoutes}, so it gets exactly the status and
 * error that request would (partitioned mode included) and one bad op fails alone. The batch's
 * `X-Write-Acks` and `X-Is-Sync` apply to each write. Values come back as text, or base64 with
 * `"encoding": "base64"` for bytes (a put may send bytes the same way).
 *
 * The body limit: MAX_VALUE_BYTES + 64 KiB (one PUT's JSON limit) + 4 KiB per op allowed
 * ({@link batchBodyLimit}), so a batch carries about one largest value in all, plus keys,
 * metadata and tags.
 *
 * @module
 */

import type { CacheService } from "../service/mod.ts";
import type { CacheRoutes } from "./cache_routes.ts";
import { checkFields } from "./entry_fields.ts";
import { errorResponse, HttpError, jsonResponse } from "./errors.ts";
import { readJsonObject } from "./kv_routes.ts";
import { JSON_ENVELOPE_BYTES } from "./put_body.ts";
import { keyFromUrl } from "./request.ts";
import { encodeBase64 } from "../util/base64.ts";

/** Most ops in one batch. */
export const MAX_BATCH_OPS = 1000;
/** Body bytes allowed per op on top of one PUT's limit. */
const PER_OP_BYTES = 4 * 1024;

const PUT_OP_FIELDS = ["op", "key", "value", "encoding", "ttl", "duration", "metadata", "tags"];
const KEY_OP_FIELDS = ["op", "key"];
const PASSED_HEADERS = ["x-write-acks", "x-is-sync"];

/** The largest `POST /batch` body for `maxValueBytes` (see the module doc). */
export function batchBodyLimit(maxValueBytes: number): number {
  return maxValueBytes + JSON_ENVELOPE_BYTES + MAX_BATCH_OPS * PER_OP_BYTES;
}

/** One op's result: the status the single request would get, and its value or error. */
export interface BatchResult {
  /** HTTP status of the op. */
  status: number;
  /** A get's value (text, or base64 when `encoding` says so). */
  value?: string;
  /** `"base64"` when `value` holds bytes. */
  encoding?: "base64";
  /** Why the op failed (status ≥ 400 but 404). */
  error?: string;
}

/** `POST /batch`: see the module doc. */
export async function runBatch(
  service: CacheService,
  routes: CacheRoutes,
  req: Request,
  timeoutMs: number,
): Promise<Response> {
  const doc = await readJsonObject(req, batchBodyLimit(service.limits.maxValueBytes), timeoutMs);
  checkFields(doc, ["ops"], "the JSON body");
  const ops = doc.ops;
  if (!Array.isArray(ops)) throw new HttpError(400, `Invalid "ops": expected an array`);
  if (ops.length > MAX_BATCH_OPS) {
    throw new HttpError(400, `Too many ops: ${ops.length}, limit is ${MAX_BATCH_OPS}`);
  }
  const headers: Record<string, string> = {};
  for (const name of PASSED_HEADERS) {
    const value = req.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const results: BatchResult[] = [];
  for (const op of ops) {
    let res: Response;
    try {
      res = await runOp(service, routes, op, headers);
    } catch (err) {
      res = errorResponse(err);
    }
    results.push(await resultOf(res, (op as { op?: unknown } | null)?.op === "get"));
  }
  return jsonResponse({ results });
}

async function runOp(
  service: CacheService,
  routes: CacheRoutes,
  op: unknown,
  headers: Record<string, string>,
): Promise<Response> {
  if (typeof op !== "object" || op === null || Array.isArray(op)) {
    throw new HttpError(400, "Invalid op: expected a JSON object");
  }
  const { op: kind, key, ...fields } = op as Record<string, unknown>;
  if (typeof key !== "string") throw new HttpError(400, `Invalid "key": expected a string`);
  const url = `http://batch/cache/${encodeURIComponent(key)}`;
  const decoded = keyFromUrl(url, service.limits.maxKeyBytes);
  switch (kind) {
    case "get":
      checkFields(op as Record<string, unknown>, KEY_OP_FIELDS, "a get op");
      return await routes.read(new Request(url, { headers }), decoded, false);
    case "delete":
      checkFields(op as Record<string, unknown>, KEY_OP_FIELDS, "a delete op");
      return await routes.delete(new Request(url, { method: "DELETE", headers }), decoded);
    case "put": {
      checkFields(op as Record<string, unknown>, PUT_OP_FIELDS, "a put op");
      const put = new Request(url, {
        method: "PUT",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(fields),
      });
      return await routes.put(put, url, decoded);
    }
    default:
      throw new HttpError(
        400,
        `Invalid "op" ${JSON.stringify(kind)}: expected "get", "put" or "delete"`,
      );
  }
}

async function resultOf(res: Response, isGet: boolean): Promise<BatchResult> {
  const status = res.status;
  const type = res.headers.get("content-type") ?? "";
  if (status === 304) return { status };
  if (isGet && status === 200 && type.startsWith("application/octet-stream")) {
    return {
      status,
      value: encodeBase64(new Uint8Array(await res.arrayBuffer())),
      encoding: "base64",
    };
  }
  const text = await res.text();
  if (status >= 400 && status !== 404) {
    try {
      return { status, error: String(JSON.parse(text).error) };
    } catch {
      return { status, error: text };
    }
  }
  // A get's hit carries its text; a write's "OK" and a miss's "Not Found" say nothing more.
  return isGet && status === 200 ? { status, value: text } : { status };
}
