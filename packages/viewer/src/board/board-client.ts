import type { BoardView, Position } from "../types";
import type { IssueTileToken } from "../slide/slide-viewer";

/** What the presenter shares: the view, or the pointer (null when it left the slide). */
export type SharedMessage = ({ kind: "view" } & BoardView) | { kind: "pointer"; slideId: string; at: Position | null };

/** What the live board needs from the hub. The hub owns the addresses and the tRPC client. */
export interface BoardClient {
  issueTileToken: IssueTileToken;
  /** The session's live stream: the current state first, then each event (server-sent events). */
  openStream(): EventSource;
  /** Shares the presenter's view or pointer; answers a message to show when sharing failed, else null. */
  share(message: SharedMessage & { sentAt: number }): Promise<string | null>;
  /** Keeps a snapshot of the view with an agenda item: its number, or a message to show. */
  saveSnapshot(itemId: string, image: Blob): Promise<{ number: number } | { error: string }>;
  /** Hands the presenter role to a member (the chair only); a rejection's message is shown. */
  handOver(userId: string): Promise<unknown>;
}
