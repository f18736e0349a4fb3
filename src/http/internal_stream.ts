/**
 * The server side of the replication stream: `GET /internal/stream` upgraded to a WebSocket on
 * which a peer sends batch frames and gets answer frames (see `replication/stream_frames.ts`).
 * Deno-specific (`Deno.upgradeWebSocket`). A browser page cannot open it (any `Origin` header is
 * refused: WebSockets are not covered by CORS); text frames, frames over the message limit and
 * unreadable frames close the socket; a malformed batch gets a "refused" answer and changes
 * nothing. With a {@link PeerAuth} (gossip key), the handshake must be signed (else 401, no
 * upgrade) and every frame must carry the socket's tag (else the socket is closed, the frame
 * unapplied); answers are tagged the same way.
 *
 * @module
 */

import {
  decodeBatchFrame,
  encodeAnswerFrame,
  FRAME_OK,
  FRAME_REFUSED,
  READ_FRAME_FLAG,
} from "../replication/stream_frames.ts";
import {
  FRAME_TAG_BYTES,
  type FrameSealer,
  type PeerAuth,
  SIGNATURE_HEADER,
} from "../replication/mod.ts";
import type { ReplicationEndpoints } from "../service/mod.ts";
import { pathOf } from "./auth.ts";
import { HttpError } from "./errors.ts";

const utf8 = new TextEncoder();
// RFC 6455: the key is base64 of 16 random bytes, so 22 characters and "==".
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Limits of the replication streams a node accepts. */
export interface StreamLimits {
  /**
   * Most replication sockets open at once (a cluster needs one per peer); beyond it, the
   * upgrade gets 503 with `Retry-After`. @default 1024
   */
  maxStreams?: number;
  /**
   * Most answer bytes one socket may leave unread: a peer that sends batches without reading
   * the answers is disconnected past it (its batches are retried elsewhere or repaired).
   * @default 1 MiB
   */
  maxUnreadBytes?: number;
  /** Counters the stream code updates. @default private counters */
  stats?: StreamStats;
}

/** Counters of refused and cut replication streams. */
export interface StreamStats {
  /** Upgrades refused with 503: `maxStreams` were open. */
  refused: number;
  /** Sockets closed because their peer left more than `maxUnreadBytes` of answers unread. */
  closedUnread: number;
}

/** The `401` of a replication request refused by the gossip key's check (`reason` says why). */
export function peerAuthDenied(reason: string): Response {
  return new Response(JSON.stringify({ error: reason }), {
    status: 401,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "www-authenticate": `Cachenode-HMAC realm="replication"`,
    },
  });
}

/**
 * Upgrades `req` and serves batch frames with `endpoints` until the socket closes; the socket
 * is kept in `open` meanwhile (so the node can close it on shutdown). Throws an `HttpError` for
 * a request that is not a plain WebSocket upgrade; answers 401 when `peerAuth` refuses its
 * signature.
 */
export function acceptReplicationStream(
  req: Request,
  endpoints: ReplicationEndpoints,
  open: Set<WebSocket>,
  peerAuth?: PeerAuth,
  limits: StreamLimits = {},
): Response {
  let sealer: FrameSealer | undefined;
  let answerSignature: string | undefined;
  if (peerAuth) {
    const grant = peerAuth.verifyRequest(
      req.headers.get(SIGNATURE_HEADER),
      req.method,
      pathOf(req.url),
    );
    if (!grant.ok) return peerAuthDenied(grant.reason);
    if (grant.key !== undefined && grant.nonce !== undefined) {
      sealer = peerAuth.frameSealer(grant.key, grant.nonce, "server");
      answerSignature = peerAuth.signAnswer(grant, 101, new Uint8Array(0));
    }
  }
  if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    throw new HttpError(426, "Expected a WebSocket upgrade on /internal/stream");
  }
  if (req.headers.has("origin")) {
    throw new HttpError(403, "The replication stream does not accept browser origins");
  }
  // Checked here because Deno.upgradeWebSocket throws a TypeError (a 500) on a missing key and
  // accepts any version and any key.
  if (req.headers.get("sec-websocket-version") !== "13") {
    throw new HttpError(426, "Expected Sec-WebSocket-Version: 13 on /internal/stream");
  }
  if (!WEBSOCKET_KEY.test(req.headers.get("sec-websocket-key") ?? "")) {
    throw new HttpError(400, "Invalid Sec-WebSocket-Key: expected base64 of 16 bytes");
  }
  const stats = limits.stats ?? { refused: 0, closedUnread: 0 };
  const maxStreams = limits.maxStreams ?? 1024;
  if (open.size >= maxStreams) {
    stats.refused++;
    return new Response(
      JSON.stringify({ error: `Too many replication streams open: limit is ${maxStreams}` }),
      {
        status: 503,
        headers: { "content-type": "application/json; charset=utf-8", "retry-after": "1" },
      },
    );
  }
  const maxUnread = limits.maxUnreadBytes ?? 1024 * 1024;
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = "arraybuffer";
  open.add(socket);
  socket.onclose = () => open.delete(socket);
  socket.onerror = () => open.delete(socket);
  socket.onmessage = (e) => {
    // Frames are served one at a time as they arrive, so the only backlog a peer can build
    // here is answers it does not read.
    if (socket.bufferedAmount > maxUnread) {
      stats.closedUnread++;
      return socket.close(1008, "answers left unread");
    }
    serveFrame(socket, endpoints, e.data, sealer);
  };
  // Tells the client that this end holds a key of the ring and tags its frames.
  if (answerSignature) response.headers.set(SIGNATURE_HEADER, answerSignature);
  return response;
}

function serveFrame(
  socket: WebSocket,
  endpoints: ReplicationEndpoints,
  data: unknown,
  sealer: FrameSealer | undefined,
): void {
  if (!(data instanceof ArrayBuffer)) return socket.close(1003, "binary frames only");
  const overhead = 4 + (sealer ? FRAME_TAG_BYTES : 0);
  if (data.byteLength > endpoints.maxMessageBytes + overhead) {
    return socket.close(1009, "frame too large");
  }
  let bytes: Uint8Array | undefined = new Uint8Array(data);
  if (sealer) {
    bytes = sealer.open(bytes);
    if (bytes === undefined) return socket.close(1008, "bad frame signature");
  }
  let frame;
  try {
    frame = decodeBatchFrame(bytes);
  } catch {
    return socket.close(1002, "unreadable frame");
  }
  let answer: Uint8Array;
  try {
    const payload = frame.seq >= READ_FRAME_FLAG
      ? endpoints.read(frame.batch)
      : endpoints.receiveBatch(frame.batch);
    answer = encodeAnswerFrame(frame.seq, FRAME_OK, payload);
  } catch (err) {
    if (!(err instanceof TypeError || err instanceof RangeError)) {
      return socket.close(1011, "internal error");
    }
    answer = encodeAnswerFrame(frame.seq, FRAME_REFUSED, utf8.encode(err.message));
  }
  if (sealer) answer = sealer.seal(answer);
  if (socket.readyState === WebSocket.OPEN) socket.send(answer);
}
