import type { BoardSnapshot, BoardStreamMessage, BoardView, Position, SessionStatus } from "../types";

export type BoardRole = "browsing" | "presenter" | "follower";
export type Connection = "connecting" | "open" | "lost" | "closed" | "removed";
export interface Notice {
  text: string;
  error?: boolean;
}
export interface BoardPointer {
  slideId: string;
  at: Position | null;
}

/** Everything the live board shows, changed only by `reduceBoard`. */
export interface BoardState {
  me: string;
  status: SessionStatus;
  presenter: { userId: string | null; name: string | null };
  /** The slide on this member's screen. */
  shown: string | undefined;
  /** Whether a follower follows (false: broken away). */
  following: boolean;
  /** The newest view the presenter shared: applied on rejoin, hand-over and when a viewer opens. */
  latestView: BoardView | null;
  /** The newest view received as a live event (the page shows it as data-presenter-view). */
  receivedView: BoardView | null;
  pointer: BoardPointer | null;
  /** ms between the presenter sending the last view and this follower receiving it. */
  delay: number | null;
  connection: Connection;
  notice: Notice | null;
  /** A view the open viewer moves to now; a new object each time, so the same view can be applied twice. */
  moveTo: { view: BoardView } | null;
}

export type BoardAction =
  | { type: "message"; message: BoardStreamMessage; receivedAt: number }
  | { type: "connection-opened" }
  | { type: "connection-failed"; refused: boolean }
  | { type: "break-away" }
  | { type: "rejoin" }
  | { type: "choose-slide"; slideId: string }
  | { type: "notice"; notice: Notice | null };

export function createBoardState(me: string, initial: BoardSnapshot, firstSlideId: string | undefined): BoardState {
  return {
    me,
    status: initial.status,
    presenter: { userId: initial.presenterUserId, name: initial.presenterName },
    shown: initial.view?.slideId ?? firstSlideId,
    following: true,
    latestView: initial.view,
    receivedView: null,
    pointer: null,
    delay: null,
    connection: "connecting",
    notice: null,
    moveTo: null,
  };
}

export function roleOf(state: BoardState): BoardRole {
  if (state.status !== "live") return "browsing";
  return state.presenter.userId === state.me ? "presenter" : "follower";
}

/** A follower who has not broken away: the presenter moves their viewer. */
export function isSyncing(state: BoardState): boolean {
  return roleOf(state) === "follower" && state.following;
}

/** Whether a viewer that has just opened `slideId` takes the shared view (followers who follow, and the presenter resuming). */
export function takesSharedView(state: BoardState, slideId: string): BoardView | null {
  const view = state.latestView;
  if (view?.slideId !== slideId) return null;
  return isSyncing(state) || roleOf(state) === "presenter" ? view : null;
}

/** Where the presenter's pointer goes on this member's viewer, or null when it is hidden. */
export function pointerPosition(state: BoardState): Position | null {
  const p = state.pointer;
  if (roleOf(state) !== "follower" || !p?.at || p.slideId !== state.shown) return null;
  return p.at;
}

/** Whether a stream message changes what the server renders (members, agenda, conclusions), so the page reloads its data. */
export function refreshesPage(message: BoardStreamMessage, me: string): boolean {
  return message.type === "status" || message.type === "agenda" || (message.type === "member-removed" && message.userId !== me);
}

/** Goes to the shared view: another slide is opened (its viewer takes the view once open), the same slide moves. */
function follow(state: BoardState, view: BoardView | null): BoardState {
  if (!view) return state;
  if (view.slideId !== state.shown) return { ...state, shown: view.slideId };
  return { ...state, moveTo: { view } };
}

function receive(state: BoardState, message: BoardStreamMessage, receivedAt: number): BoardState {
  switch (message.type) {
    case "state": {
      const next = { ...state, status: message.status, presenter: { userId: message.presenterUserId, name: message.presenterName }, latestView: message.view };
      // The presenter, too, resumes from the last shared view (after a reload or a hand-over).
      return message.status === "live" && (state.following || message.presenterUserId === state.me) ? follow(next, message.view) : next;
    }
    case "view": {
      const next = {
        ...state,
        latestView: message.view,
        receivedView: message.view,
        delay: roleOf(state) === "follower" ? receivedAt - message.sentAt : state.delay,
      };
      return isSyncing(state) ? follow(next, message.view) : next;
    }
    case "pointer":
      return { ...state, pointer: { slideId: message.slideId, at: message.at } };
    case "presenter": {
      const next = { ...state, presenter: { userId: message.presenterUserId, name: message.presenterName } };
      // The presenter who handed over follows the new one from where the session stands.
      if (message.presenterUserId !== state.me && roleOf(state) === "presenter") return follow({ ...next, following: true }, state.latestView);
      return next;
    }
    case "status":
      return { ...state, status: message.status, presenter: { userId: message.presenterUserId, name: message.presenterName }, following: true };
    case "agenda":
      return state;
    case "member-removed":
      return message.userId === state.me ? { ...state, connection: "removed", status: "closed" } : state;
  }
}

export function reduceBoard(state: BoardState, action: BoardAction): BoardState {
  switch (action.type) {
    case "message":
      return receive(state, action.message, action.receivedAt);
    case "connection-opened":
      return { ...state, connection: "open" };
    case "connection-failed":
      // The browser reconnects by itself unless the hub refused the connection.
      return state.connection === "removed" ? state : { ...state, connection: action.refused ? "closed" : "lost" };
    case "break-away":
      return { ...state, following: false };
    case "rejoin":
      return follow({ ...state, following: true }, state.latestView);
    case "choose-slide":
      // Looking at another slide than the presenter's is breaking away.
      return { ...state, following: roleOf(state) === "follower" ? false : state.following, shown: action.slideId };
    case "notice":
      return { ...state, notice: action.notice };
  }
}
