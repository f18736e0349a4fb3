/**
 * Messages of the cluster-wide operations a node asks of its peers (format 2; rare, so plain
 * HTTP POSTs, never stream frames):
 *
 * - `POST /internal/list`: a page of the peer's live keys, for a listing of the whole cluster
 *   (the asking node merges its peers' pages). Request `[format, prefix, after | nil, limit]`;
 *   answer `[format, [[key, expiresAt, metadataJson | nil], ...], more]`, keys ascending (code
 *   units), each starting with `prefix` and after `after`, at most `limit` of them; `more` says
 *   whether the peer holds further keys past the last one.
 * - `POST /internal/purge`: deletes entries on the peer. Request `[format, tags, keys, all]`
 *   (`all`: every entry, a flush); answer `[format, purged]`, how many live entries it deleted.
 *
 * Decoding is defensive like every replication message: a `TypeError` names the bad field.
 *
 * @module
 */

import type { ListedRecord } from "../store/mod.ts";
import { checkEnvelope, checkUint, type ReplicationCodec, WIRE_FORMAT } from "./codec.ts";
import type { PeerAddress, ReplicationTransport } from "./transport.ts";
import { decodeExtras, MAX_TAG_BYTES } from "./record_extras.ts";

/** A node was asked for a cluster operation it does not serve (HTTP 501). */
export class NotServedError extends Error {
  /** @param message why */
  constructor(message: string) {
    super(message);
    this.name = "NotServedError";
  }
}

/** Most keys one list request may ask for. */
export const MAX_LIST_LIMIT = 1000;

/** What a node asks a peer to list. */
export interface ListRequest {
  /** Only keys starting with this. */
  prefix: string;
  /** Only keys after this one (exclusive, code-unit order). @default from the first */
  after?: string;
  /** Most keys answered, 1..{@link MAX_LIST_LIMIT}. */
  limit: number;
}

/** A peer's page of keys. */
export interface ListAnswer {
  /** Live keys in ascending order, with their expiry and metadata. */
  keys: ListedRecord[];
  /** Whether the peer holds further matching keys after the last one. */
  more: boolean;
}

/** What a node asks a peer to delete. */
export interface ClusterPurgeRequest {
  /** Delete the entries carrying any of these tags. */
  tags: readonly string[];
  /** Delete these keys. */
  keys: readonly string[];
  /** Delete every entry (a flush). */
  all: boolean;
}

const utf8 = new TextEncoder();

function bad(what: string, detail: string): never {
  throw new TypeError(`Cannot decode ${what}: ${detail}`);
}

function checkText(v: unknown, min: number, max: number, field: string, what: string): string {
  if (
    typeof v !== "string" || v.length < min ||
    (v.length * 3 > max && utf8.encode(v).byteLength > max)
  ) {
    bad(what, `${field} must be text of ${min}..${max} bytes`);
  }
  return v;
}

function checkTexts(v: unknown, max: number, field: string, what: string): string[] {
  if (!Array.isArray(v)) bad(what, `${field} must be an array`);
  return v.map((t, i) => checkText(t, 1, max, `${field}[${i}]`, what));
}

/** Encodes a list request. */
export function encodeListRequest(codec: ReplicationCodec, r: ListRequest): Uint8Array {
  return codec.encode([WIRE_FORMAT, r.prefix, r.after ?? null, r.limit]);
}

/** Decodes a list request; throws a `TypeError` naming the bad field. */
export function decodeListRequest(codec: ReplicationCodec, bytes: Uint8Array): ListRequest {
  const what = "list request";
  const m = checkEnvelope(codec.decode(bytes, what), 4, what, WIRE_FORMAT);
  const max = codec.limits.maxKeyBytes;
  const prefix = checkText(m[1], 0, max, "prefix", what);
  const after = m[2] === null ? undefined : checkText(m[2], 1, max, "after", what);
  const limit = m[3];
  if (
    typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT
  ) {
    bad(what, `limit must be an integer in 1..${MAX_LIST_LIMIT}: received ${String(limit)}`);
  }
  return after === undefined ? { prefix, limit } : { prefix, after, limit };
}

/**
 * Encodes a page of keys; keys past what fits in `maxBytes` are left out (and `more` set), so
 * the answer stays within what the asking node accepts.
 */
export function encodeListAnswer(
  codec: ReplicationCodec,
  answer: ListAnswer,
  maxBytes = codec.limits.maxMessageBytes,
): Uint8Array {
  const rows: unknown[] = [];
  let size = 16, more = answer.more;
  for (const k of answer.keys) {
    const metadata = k.metadata === undefined ? null : JSON.stringify(k.metadata);
    size += k.key.length * 3 + (metadata === null ? 1 : metadata.length * 3) + 16;
    if (size > maxBytes) {
      more = true;
      break;
    }
    rows.push([k.key, k.expiresAt, metadata]);
  }
  return codec.encode([WIRE_FORMAT, rows, more]);
}

/** Decodes a page answering `request`; throws a `TypeError` when it is not one. */
export function decodeListAnswer(
  codec: ReplicationCodec,
  bytes: Uint8Array,
  request: ListRequest,
): ListAnswer {
  const what = "list answer";
  const m = checkEnvelope(codec.decode(bytes, what), 3, what, WIRE_FORMAT);
  const max = codec.limits.maxKeyBytes;
  if (!Array.isArray(m[1]) || m[1].length > request.limit) {
    bad(what, `keys must be an array of at most ${request.limit}`);
  }
  let last = request.after;
  const keys = m[1].map((row, i): ListedRecord => {
    if (!Array.isArray(row) || row.length !== 3) {
      bad(what, `keys[${i}] must be [key, expiresAt, metadata]`);
    }
    const key = checkText(row[0], 1, max, `keys[${i}].key`, what);
    if (!key.startsWith(request.prefix) || (last !== undefined && key <= last)) {
      bad(what, `keys[${i}].key must ascend after the request's cursor, with its prefix`);
    }
    last = key;
    const listed: ListedRecord = {
      key,
      expiresAt: checkUint(row[1], `keys[${i}].expiresAt`, what),
    };
    decodeExtras(row[2], null, `keys[${i}]`, what, listed);
    return listed;
  });
  if (typeof m[2] !== "boolean") bad(what, "more must be a boolean");
  return { keys, more: m[2] };
}

/** Encodes a purge request. */
export function encodePurgeRequest(codec: ReplicationCodec, r: ClusterPurgeRequest): Uint8Array {
  return codec.encode([WIRE_FORMAT, r.tags, r.keys, r.all]);
}

/** Decodes a purge request; throws a `TypeError` naming the bad field. */
export function decodePurgeRequest(
  codec: ReplicationCodec,
  bytes: Uint8Array,
): ClusterPurgeRequest {
  const what = "purge request";
  const m = checkEnvelope(codec.decode(bytes, what), 4, what, WIRE_FORMAT);
  const tags = checkTexts(m[1], MAX_TAG_BYTES, "tags", what);
  const keys = checkTexts(m[2], codec.limits.maxKeyBytes, "keys", what);
  if (typeof m[3] !== "boolean") bad(what, "all must be a boolean");
  return { tags, keys, all: m[3] };
}

/** Encodes a purge answer: how many live entries were deleted. */
export function encodePurgeAnswer(codec: ReplicationCodec, purged: number): Uint8Array {
  return codec.encode([WIRE_FORMAT, purged]);
}

/** Decodes a purge answer; throws a `TypeError` when it is not one. */
export function decodePurgeAnswer(codec: ReplicationCodec, bytes: Uint8Array): number {
  const what = "purge answer";
  return checkUint(
    checkEnvelope(codec.decode(bytes, what), 2, what, WIRE_FORMAT)[1],
    "purged",
    what,
  );
}

/** What the requests below need: the node's codec, its transport and the request deadline. */
export interface ClusterOpsContext {
  /** The node's codec. */
  codec: ReplicationCodec;
  /** How requests reach peers. */
  transport: ReplicationTransport;
  /** Deadline of one request, ms. */
  timeoutMs: number;
}

/** Asks `peer` for a page of its keys; rejects with a `PeerRequestError` or a `TypeError`. */
export async function requestList(
  ctx: ClusterOpsContext,
  peer: PeerAddress,
  request: ListRequest,
): Promise<ListAnswer> {
  const body = encodeListRequest(ctx.codec, request);
  const answer = await ctx.transport.request(peer, "list", body, ctx.timeoutMs);
  return decodeListAnswer(ctx.codec, answer, request);
}

/** Has `peer` purge; resolves with its count, rejects like {@link requestList}. */
export async function requestPurge(
  ctx: ClusterOpsContext,
  peer: PeerAddress,
  request: ClusterPurgeRequest,
): Promise<number> {
  const body = encodePurgeRequest(ctx.codec, request);
  const answer = await ctx.transport.request(peer, "purge", body, ctx.timeoutMs);
  return decodePurgeAnswer(ctx.codec, answer);
}
