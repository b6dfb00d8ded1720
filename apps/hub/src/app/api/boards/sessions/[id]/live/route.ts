import { openLiveSession, recordAttendance, requestOriginOf } from "@pathx/api";
import { handleBoardRequest } from "@/server/board-route";

export const dynamic = "force-dynamic";

const HEARTBEAT_MS = 15_000;

/**
 * Server-sent events of a board session for its members: the current state first (status,
 * presenter, the presenter's last view), then every live event; a comment every 15 s keeps
 * proxies from closing an idle stream.
 */
export async function GET(request: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return handleBoardRequest(request, [id], async (userId, deps) => {
    const { sessionId, ...state } = await openLiveSession(deps.db, userId, id);
    const encoder = new TextEncoder();
    let cleanup = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true;
          cleanup();
          try {
            controller.close();
          } catch {
            // already closed by the client going away
          }
        };
        const send = (text: string) => {
          if (closed) return;
          try {
            controller.enqueue(encoder.encode(text));
          } catch {
            close();
          }
        };
        send(`retry: 2000\ndata: ${JSON.stringify({ type: "state", ...state })}\n\n`);
        const unsubscribe = deps.boardChannel.subscribe(sessionId, (event) => {
          send(`data: ${JSON.stringify(event)}\n\n`);
          if (event.type === "member-removed" && event.userId === userId) close();
          if (event.type === "status" && event.status === "live")
            void recordAttendance(deps.db, userId, sessionId, requestOriginOf(request.headers).ip).catch((error) => console.error(error));
        });
        const heartbeat = setInterval(() => send(": heartbeat\n\n"), HEARTBEAT_MS);
        cleanup = () => {
          clearInterval(heartbeat);
          unsubscribe();
        };
        request.signal.addEventListener("abort", close);
      },
      cancel() {
        cleanup();
      },
    });
    return new Response(stream, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        // no-transform: the response must not be compressed (gzip would hold events back).
        "cache-control": "no-cache, no-transform",
        "x-accel-buffering": "no",
      },
    });
  });
}
