/**
 * `POST /batch`: up to {@link MAX_BATCH_OPS} gets, puts and deletes in one request, applied in
 * order. Each op gets the status and error of the single request it stands for (`GET`, `PUT`
 * with a JSON body, `DELETE /cache/{key}`), and one bad op fails alone. In partitioned mode
 * each op is run as that request through the same {@link CacheRoutes} (it may be passed to the
 * key's owners). With full replication nothing is passed on, so gets and puts skip the
 * request: a get reads the node's entry, a put's fields are checked as a parsed JSON body
 * (`putFromJson`) and stored by `CacheRoutes.store`, as `PUT` does after its body is read — a
 * request, its body stream and its answer per op were most of a bulk load's CPU and garbage
 * (docs/benchmarks.md, "Resident memory per entry"). The batch's
 * `X-Write-Acks` and `X-Is-Sync` apply to each write. Values come back as text, or base64 with
 * `"encoding": "base64"` for bytes (a put may send bytes the same way).
 *
 * The body limit: MAX_VALUE_BYTES + 64 KiB (one PUT's JSON limit) + 4 KiB per op allowed
 * ({@link batchBodyLimit}), so a batch carries about one largest value in all, plus keys,
 * metadata and tags.
 *
 * @module
 */

import type { CacheEntryView, CacheService } from "../service/mod.ts";
import type { CacheRoutes } from "./cache_routes.ts";
import { checkFields } from "./entry_fields.ts";
import { errorResponse, HttpError, jsonResponse } from "./errors.ts";
import { readJsonObject } from "./kv_routes.ts";
import { JSON_ENVELOPE_BYTES, putFromJson } from "./put_body.ts";
import { checkWritableKey, keyFromUrl, writeOptions } from "./request.ts";
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
  const context: OpContext = {
    service,
    routes,
    headers,
    direct: service.routing === undefined ? new Request("http://batch/", { headers }) : undefined,
  };
  const results: BatchResult[] = [];
  for (const op of ops) {
    try {
      results.push(await runOp(context, op));
    } catch (err) {
      results.push(await resultOf(errorResponse(err), false));
    }
  }
  return jsonResponse({ results });
}

interface OpContext {
  service: CacheService;
  routes: CacheRoutes;
  /** The batch's headers each op's request carries. */
  headers: Record<string, string>;
  /**
   * Set with full replication, where no op is passed on and gets and puts are answered without
   * a request of their own: a request with the batch's headers alone, for each write's options.
   */
  direct: Request | undefined;
}

async function runOp(context: OpContext, op: unknown): Promise<BatchResult> {
  if (typeof op !== "object" || op === null || Array.isArray(op)) {
    throw new HttpError(400, "Invalid op: expected a JSON object");
  }
  const { service, routes, headers, direct } = context;
  const { op: kind, key, ...fields } = op as Record<string, unknown>;
  if (typeof key !== "string") throw new HttpError(400, `Invalid "key": expected a string`);
  const url = `http://batch/cache/${encodeURIComponent(key)}`;
  const decoded = keyFromUrl(url, service.limits.maxKeyBytes);
  switch (kind) {
    case "get":
      checkFields(op as Record<string, unknown>, KEY_OP_FIELDS, "a get op");
      if (direct !== undefined) return entryResult(service.get(decoded));
      return await resultOf(await routes.read(new Request(url, { headers }), decoded, false), true);
    case "delete":
      checkFields(op as Record<string, unknown>, KEY_OP_FIELDS, "a delete op");
      return await resultOf(
        await routes.delete(new Request(url, { method: "DELETE", headers }), decoded),
        false,
      );
    case "put": {
      checkFields(op as Record<string, unknown>, PUT_OP_FIELDS, "a put op");
      if (direct !== undefined) {
        // The checks of `routes.put`, in its order, on the fields as they would arrive parsed.
        checkWritableKey(decoded);
        const options = writeOptions(direct);
        await routes.store(decoded, putFromJson(fields, service.limits), options);
        return { status: 200 };
      }
      const put = new Request(url, {
        method: "PUT",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify(fields),
      });
      return await resultOf(await routes.put(put, url, decoded), false);
    }
    default:
      throw new HttpError(
        400,
        `Invalid "op" ${JSON.stringify(kind)}: expected "get", "put" or "delete"`,
      );
  }
}

/** A get's result from this node's entry (what `routes.read` answers, as a result). */
function entryResult(entry: CacheEntryView | undefined): BatchResult {
  if (entry === undefined) return { status: 404 };
  return typeof entry.value === "string"
    ? { status: 200, value: entry.value }
    : { status: 200, value: encodeBase64(entry.value), encoding: "base64" };
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
