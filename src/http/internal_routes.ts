/**
 * The node-to-node routes on the API port: `POST /internal/replicate`, `/internal/sync`,
 * `/internal/read`, and the cluster-wide `/internal/list` and `/internal/purge` (msgpack bodies,
 * size-capped, malformed → 400, not served → 501; with a gossip key, signed by a key of the
 * ring, else 401 before anything is applied), the `GET /internal/stream` WebSocket
 * (`internal_stream.ts`), and `POST /internal/edge` (a peer's edge miss for a key this node is
 * the primary owner of: JSON in, the edge's answer streamed back; signed like the others).
 *
 * @module
 */

import type { Hono } from "npm:hono@4.13.19";
import {
  MSGPACK_CONTENT_TYPE,
  NotServedError,
  type PeerAuth,
  SIGNATURE_HEADER,
} from "../replication/mod.ts";
import type { CacheService, ReplicationEndpoints } from "../service/mod.ts";
import { pathOf } from "./auth.ts";
import { HttpError } from "./errors.ts";
import { acceptReplicationStream, peerAuthDenied, type StreamLimits } from "./internal_stream.ts";
import { readBodyLimited } from "./put_body.ts";
import type { EdgeCache } from "../edge/mod.ts";

/** Options of {@link mountInternalRoutes}. */
export interface InternalRouteOptions {
  /** Signature check with the gossip keyring. @default none (unsigned) */
  peerAuth?: PeerAuth;
  /** Deadline for receiving a body, ms. @default 0 (none) */
  bodyTimeoutMs?: number;
  /** Where open replication sockets are kept (closed by the node when it stops). */
  streams: Set<WebSocket>;
  /** Limits of replication sockets. @default see `internal_stream.ts` */
  streamLimits?: StreamLimits;
  /** The node's edge cache, while it runs. @default none (`/internal/edge` answers 501) */
  edge?: () => EdgeCache | undefined;
}

/** Largest body of `POST /internal/edge` (a path, a query and request headers). */
const MAX_EDGE_ASK_BYTES = 256 * 1024;

type Handle = (
  endpoints: ReplicationEndpoints,
  body: Uint8Array,
) => Uint8Array | Promise<Uint8Array>;

/** Adds the internal routes of `service` to `app`. */
export function mountInternalRoutes(
  app: Hono,
  service: CacheService,
  options: InternalRouteOptions,
): void {
  const post = (req: Request, handle: Handle) => internalRoute(service, req, options, handle);
  app.post("/internal/replicate", (c) => post(c.req.raw, (e, body) => e.receiveBatch(body)));
  app.post("/internal/sync", (c) => post(c.req.raw, (e, body) => e.answerSync(body)));
  app.post("/internal/read", (c) => post(c.req.raw, (e, body) => e.read(body)));
  app.post("/internal/list", (c) => post(c.req.raw, (e, body) => e.list(body)));
  app.post("/internal/purge", (c) => post(c.req.raw, (e, body) => e.purge(body)));
  app.post("/internal/edge", (c) => edgeRoute(c.req.raw, options));
  app.get("/internal/stream", (c) => {
    const endpoints = service.replication;
    if (!endpoints) throw new HttpError(503, "Replication is not running on this node");
    return acceptReplicationStream(
      c.req.raw,
      endpoints,
      options.streams,
      options.peerAuth,
      options.streamLimits,
    );
  });
}

/** `POST /internal/edge`: signature checked as on the other routes, then the edge answers. */
async function edgeRoute(req: Request, options: InternalRouteOptions): Promise<Response> {
  const peerAuth = options.peerAuth;
  const signature = req.headers.get(SIGNATURE_HEADER);
  const early = peerAuth?.precheck(signature);
  if (early) return peerAuthDenied(early.reason);
  const edge = options.edge?.();
  if (!edge) throw new HttpError(501, "The edge cache is not running on this node");
  const type = req.headers.get("content-type")?.split(";", 1)[0].trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError(415, "Unsupported Content-Type: expected application/json");
  }
  const body = await readBodyLimited(req, MAX_EDGE_ASK_BYTES, options.bodyTimeoutMs ?? 0);
  const grant = peerAuth?.verifyRequest(signature, req.method, pathOf(req.url), body);
  if (grant && !grant.ok) return peerAuthDenied(grant.reason);
  try {
    return await edge.answerPeer(body);
  } catch (err) {
    if (err instanceof TypeError) throw new HttpError(400, err.message);
    throw err;
  }
}

/** One `POST /internal/{route}`; see the module doc. */
async function internalRoute(
  service: CacheService,
  req: Request,
  options: InternalRouteOptions,
  handle: Handle,
): Promise<Response> {
  const peerAuth = options.peerAuth;
  const signature = req.headers.get(SIGNATURE_HEADER);
  // Missing, malformed or stale signatures are refused before the body is read.
  const early = peerAuth?.precheck(signature);
  if (early) return peerAuthDenied(early.reason);
  const endpoints = service.replication;
  if (!endpoints) throw new HttpError(503, "Replication is not running on this node");
  const type = req.headers.get("content-type")?.split(";", 1)[0].trim().toLowerCase();
  if (type !== MSGPACK_CONTENT_TYPE) {
    throw new HttpError(415, `Unsupported Content-Type: expected ${MSGPACK_CONTENT_TYPE}`);
  }
  const body = await readBodyLimited(req, endpoints.maxMessageBytes, options.bodyTimeoutMs ?? 0);
  const grant = peerAuth?.verifyRequest(signature, req.method, pathOf(req.url), body);
  if (grant && !grant.ok) return peerAuthDenied(grant.reason);
  let answer: Uint8Array;
  try {
    answer = await handle(endpoints, body);
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) {
      throw new HttpError(400, err.message);
    }
    if (err instanceof NotServedError) throw new HttpError(501, err.message);
    throw err;
  }
  const headers: Record<string, string> = { "content-type": MSGPACK_CONTENT_TYPE };
  const answerSignature = grant && peerAuth!.signAnswer(grant, 200, answer);
  if (answerSignature) headers[SIGNATURE_HEADER] = answerSignature;
  return new Response(answer as BodyInit, { headers });
}
