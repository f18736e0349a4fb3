/**
 * The server side of the replication stream: `GET /internal/stream` upgraded to a WebSocket on
 * which a peer sends batch frames and gets answer frames (see `replication/stream_frames.ts`).
 * Deno-specific (`Deno.upgradeWebSocket`). A browser page cannot open it (any `Origin` header is
 * refused: WebSockets are not covered by CORS); text frames, frames over the message limit and
 * unreadable frames close the socket; a malformed batch gets a "refused" answer and changes
 * nothing.
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
import type { ReplicationEndpoints } from "./app.ts";
import { HttpError } from "./put_body.ts";

const utf8 = new TextEncoder();
// RFC 6455: the key is base64 of 16 random bytes, so 22 characters and "==".
const WEBSOCKET_KEY = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Upgrades `req` and serves batch frames with `endpoints` until the socket closes; the socket
 * is kept in `open` meanwhile (so the node can close it on shutdown). Throws an `HttpError` for
 * a request that is not a plain WebSocket upgrade.
 */
export function acceptReplicationStream(
  req: Request,
  endpoints: ReplicationEndpoints,
  open: Set<WebSocket>,
): Response {
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
  const { socket, response } = Deno.upgradeWebSocket(req);
  socket.binaryType = "arraybuffer";
  open.add(socket);
  socket.onclose = () => open.delete(socket);
  socket.onerror = () => open.delete(socket);
  socket.onmessage = (e) => serveFrame(socket, endpoints, e.data);
  return response;
}

function serveFrame(socket: WebSocket, endpoints: ReplicationEndpoints, data: unknown): void {
  if (!(data instanceof ArrayBuffer)) return socket.close(1003, "binary frames only");
  if (data.byteLength > endpoints.maxMessageBytes + 4) return socket.close(1009, "frame too large");
  let frame;
  try {
    frame = decodeBatchFrame(new Uint8Array(data));
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
  if (socket.readyState === WebSocket.OPEN) socket.send(answer);
}
