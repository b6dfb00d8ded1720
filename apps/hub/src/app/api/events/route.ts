import { loadSessionUser, refusedTopics, watchTopicRights } from "@pathx/api";
import { currentUserId } from "@/auth";
import { getDeps } from "@/server/deps";
import { getEventHub } from "@/server/events";

export const dynamic = "force-dynamic";

const HEARTBEAT_MS = 15_000;
const MAX_TOPICS = 20;
const plain = (status: number, text: string) =>
  new Response(text, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });

/**
 * Live events as Server-Sent Events: `GET /api/events?topics=lab:<id>:slides,slide:<id>`.
 * Each topic must be one the signed-in user may see (packages/api decides). A reconnecting
 * EventSource sends Last-Event-ID and first gets what it missed; a comment every 15 s keeps
 * proxies and load balancers from closing an idle stream.
 */
export async function GET(request: Request) {
  const userId = await currentUserId();
  if (!userId) return plain(401, "Sign in to receive live updates.");
  const topics = [
    ...new Set(
      (new URL(request.url).searchParams.get("topics") ?? "")
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  if (topics.length === 0 || topics.length > MAX_TOPICS) return plain(400, `Name 1 to ${MAX_TOPICS} topics, separated by commas.`);
  const { db } = await getDeps();
  const user = await loadSessionUser(db, userId);
  if (!user) return plain(401, "Sign in to receive live updates.");
  const refused = await refusedTopics(db, user, topics);
  if (refused.length > 0) return plain(403, `Not allowed: ${refused.join(", ")}`);
  const lastEventId = request.headers.get("last-event-id") ?? new URL(request.url).searchParams.get("since");
  const since = lastEventId && /^\d{1,18}$/.test(lastEventId) ? Number(lastEventId) : undefined;
  const hub = await getEventHub();
  const encoder = new TextEncoder();
  let stop = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          stop(); // the client is gone
        }
      };
      const unsubscribe = hub.subscribe(topics, since, (event) => {
        write(`id: ${event.id}\ndata: ${JSON.stringify({ topic: event.topic, payload: event.payload, at: event.createdAt.getTime() })}\n\n`);
      });
      // Rights are re-checked when access ends (a grant, a board or lab membership): a stream
      // whose topics are no longer the user's ends, and its reconnect is refused.
      const unwatch = watchTopicRights(hub, db, user.id, topics, () => stop());
      // Said once subscribed: whatever happens from here on is delivered.
      write(`retry: 2000\n: connected, last event ${hub.lastId()}\n\n`);
      const heartbeat = setInterval(() => write(": heartbeat\n\n"), HEARTBEAT_MS);
      stop = () => {
        unsubscribe();
        unwatch();
        clearInterval(heartbeat);
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      request.signal.addEventListener("abort", () => stop());
    },
    cancel() {
      stop();
    },
  });
  return new Response(body, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    },
  });
}
