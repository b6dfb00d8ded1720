import { type EventHub, createEventHub } from "@pathx/api";
import { getDeps } from "./deps";

const holder = globalThis as unknown as { pathxEvents?: Promise<EventHub> };

/** This process's one event listener, shared by all of its SSE clients. */
export function getEventHub(): Promise<EventHub> {
  holder.pathxEvents ??= (async () => createEventHub((await getDeps()).handle))();
  return holder.pathxEvents;
}
