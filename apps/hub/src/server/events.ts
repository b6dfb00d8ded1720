import { type EventHub, createEventHub } from "@pathx/api";
import { getServices } from "./services";

const holder = globalThis as unknown as { pathxEvents?: Promise<EventHub> };

/** This process's one event listener, shared by all of its SSE clients. */
export function getEventHub(): Promise<EventHub> {
  holder.pathxEvents ??= (async () => createEventHub((await getServices()).handle))();
  return holder.pathxEvents;
}

/**
 * The event hub for code that must subscribe synchronously (the board channel): the
 * subscription starts once the hub is up, and unsubscribing before that cancels it.
 */
export const lazyEventHub: Pick<EventHub, "subscribe"> = {
  subscribe(topics, sinceId, deliver) {
    let unsubscribe: (() => void) | undefined;
    let cancelled = false;
    void getEventHub().then((hub) => {
      if (!cancelled) unsubscribe = hub.subscribe(topics, sinceId, deliver);
    });
    return () => {
      cancelled = true;
      unsubscribe?.();
    };
  },
};
