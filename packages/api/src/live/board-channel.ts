import type { Db } from "@pathx/db";
import { type EventHub, publishEvent } from "../events/bus";
/**
 * The presenter's view of a board session: which slide, its centre in image pixels (level 0),
 * the OpenSeadragon viewport zoom (1: the slide's width fills the viewer) and the rotation in
 * degrees. Stored as board_sessions.view_state.
 */
export interface BoardView {
  slideId: string;
  centre: [number, number];
  zoom: number;
  rotation: number;
}

/** What flows to everyone watching a session. `sentAt` is the presenter's clock (ms since epoch). */
export type BoardEvent =
  | { type: "view"; view: BoardView; sentAt: number }
  /** The presenter's pointer in image pixels of the slide, or null when it left the slide. */
  | { type: "pointer"; slideId: string; at: [number, number] | null; sentAt: number }
  | { type: "presenter"; presenterUserId: string; presenterName: string }
  /** The session started (the chair presents) or ended. */
  | { type: "status"; status: "live" | "closed"; presenterUserId: string | null; presenterName: string | null }
  /** The agenda, a conclusion or the snapshots changed: pages reload what they show. */
  | { type: "agenda" }
  /** A member was removed: their open connections close. */
  | { type: "member-removed"; userId: string };

/**
 * How live board events reach the connections watching a session. The in-process channel
 * serves one hub process; a PostgreSQL LISTEN/NOTIFY bus can replace it behind the same shape
 * when the hub runs as several processes.
 */
export interface BoardChannel {
  publish(sessionId: string, event: BoardEvent): Promise<void>;
  /** Calls `listener` for each event of the session until the returned function is called. */
  subscribe(sessionId: string, listener: (event: BoardEvent) => void): () => void;
}

export function createInProcessBoardChannel(): BoardChannel {
  const listeners = new Map<string, Set<(event: BoardEvent) => void>>();
  return {
    async publish(sessionId, event) {
      for (const listener of listeners.get(sessionId) ?? []) {
        // One broken connection must not keep the event from the others.
        try {
          listener(event);
        } catch (error) {
          console.error("board channel listener failed", error);
        }
      }
    },
    subscribe(sessionId, listener) {
      let set = listeners.get(sessionId);
      if (!set) {
        set = new Set();
        listeners.set(sessionId, set);
      }
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(sessionId) === set) listeners.delete(sessionId);
      };
    },
  };
}

/**
 * The board channel over the event bus: every hub process sees every session's events, so the
 * presenter and the followers may be connected to different hubs. Each event is a row in
 * `events` (topic board:<sessionId>), woken by NOTIFY.
 */
export function createBusBoardChannel(db: Db, hub: Pick<EventHub, "subscribe">): BoardChannel {
  return {
    async publish(sessionId, event) {
      await publishEvent(db, { topic: boardTopic(sessionId), labId: null, payload: event as unknown as Record<string, unknown> });
    },
    subscribe(sessionId, listener) {
      return hub.subscribe([boardTopic(sessionId)], undefined, (event) => listener(event.payload as unknown as BoardEvent));
    },
  };
}

export const boardTopic = (sessionId: string) => `board:${sessionId.toLowerCase()}`;
