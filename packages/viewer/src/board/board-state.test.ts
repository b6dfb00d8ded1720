import { describe, expect, it } from "vitest";
import type { BoardStreamMessage, BoardView } from "../types";
import {
  type BoardAction,
  type BoardState,
  createBoardState,
  isSyncing,
  pointerPosition,
  reduceBoard,
  refreshesPage,
  roleOf,
  takesSharedView,
} from "./board-state";

const view = (slideId: string, x = 100): BoardView => ({ slideId, centre: [x, 200], zoom: 2, rotation: 0 });
const message = (m: BoardStreamMessage, receivedAt = 1_000): BoardAction => ({ type: "message", message: m, receivedAt });
const run = (state: BoardState, ...actions: BoardAction[]) => actions.reduce(reduceBoard, state);

/** A live session presented by `presenter`, as `me` sees it on slide A. */
function liveAs(me: string, presenter = "north") {
  return createBoardState(me, { status: "live", presenterUserId: presenter, presenterName: presenter, view: view("A") }, "A");
}

describe("board sync", () => {
  it("starts on the shared view's slide, else the agenda's first", () => {
    expect(liveAs("south").shown).toBe("A");
    expect(createBoardState("south", { status: "planned", presenterUserId: null, presenterName: null, view: null }, "B").shown).toBe("B");
  });

  it("gives each member a role: browsing until live, then presenter or follower", () => {
    expect(roleOf(createBoardState("south", { status: "planned", presenterUserId: null, presenterName: null, view: null }, "A"))).toBe("browsing");
    expect(roleOf(liveAs("north"))).toBe("presenter");
    expect(roleOf(liveAs("south"))).toBe("follower");
    expect(isSyncing(liveAs("south"))).toBe(true);
    expect(isSyncing(liveAs("north"))).toBe(false);
  });

  it("moves a follower's viewer to each view on the same slide, and records what arrived and how late", () => {
    const next = run(liveAs("south"), message({ type: "view", view: view("A", 300), sentAt: 900 }, 940));
    expect(next.moveTo?.view).toEqual(view("A", 300));
    expect(next.receivedView).toEqual(view("A", 300));
    expect(next.latestView).toEqual(view("A", 300));
    expect(next.delay).toBe(40);
    // The same view twice moves twice: the member may have panned in between.
    const again = run(next, message({ type: "view", view: view("A", 300), sentAt: 950 }));
    expect(again.moveTo).not.toBe(next.moveTo);
  });

  it("opens the presenter's other slide instead of moving, and the new viewer takes the view once open", () => {
    const next = run(liveAs("south"), message({ type: "view", view: view("B"), sentAt: 900 }));
    expect(next.shown).toBe("B");
    expect(next.moveTo).toBeNull();
    expect(takesSharedView(next, "B")).toEqual(view("B"));
    expect(takesSharedView(next, "A")).toBeNull();
  });

  it("does not move the presenter with their own views, nor measure a delay for them", () => {
    const next = run(liveAs("north"), message({ type: "view", view: view("A", 300), sentAt: 900 }));
    expect(next.moveTo).toBeNull();
    expect(next.delay).toBeNull();
  });

  it("lets the presenter resume from the last shared view after a reload", () => {
    const next = run(liveAs("north"), message({ type: "state", status: "live", presenterUserId: "north", presenterName: "North", view: view("A", 500) }));
    expect(next.moveTo?.view).toEqual(view("A", 500));
    expect(takesSharedView(next, "A")).toEqual(view("A", 500));
  });
});

describe("break away and return", () => {
  it("stops following on break-away: views are recorded but move nothing", () => {
    const away = run(liveAs("south"), { type: "break-away" }, message({ type: "view", view: view("A", 700), sentAt: 900 }));
    expect(isSyncing(away)).toBe(false);
    expect(away.moveTo).toBeNull();
    expect(away.receivedView).toEqual(view("A", 700));
    expect(takesSharedView(away, "A")).toBeNull();
  });

  it("breaks away when a follower chooses another slide; a browsing member just switches", () => {
    const chose = run(liveAs("south"), { type: "choose-slide", slideId: "B" });
    expect(chose.shown).toBe("B");
    expect(chose.following).toBe(false);
    const planned = createBoardState("south", { status: "planned", presenterUserId: null, presenterName: null, view: null }, "A");
    expect(run(planned, { type: "choose-slide", slideId: "B" }).following).toBe(true);
  });

  it("rejoins at the newest shared view, on its slide", () => {
    const back = run(liveAs("south"), { type: "choose-slide", slideId: "B" }, message({ type: "view", view: view("A", 800), sentAt: 900 }), { type: "rejoin" });
    expect(isSyncing(back)).toBe(true);
    expect(back.shown).toBe("A");
    expect(takesSharedView(back, "A")).toEqual(view("A", 800));
    const sameSlide = run(liveAs("south"), { type: "break-away" }, message({ type: "view", view: view("A", 900), sentAt: 900 }), { type: "rejoin" });
    expect(sameSlide.moveTo?.view).toEqual(view("A", 900));
  });

  it("follows again when the session starts or ends", () => {
    const away = run(liveAs("south"), { type: "break-away" });
    expect(run(away, message({ type: "status", status: "closed", presenterUserId: null, presenterName: null })).following).toBe(true);
  });
});

describe("hand-over", () => {
  it("turns the old presenter into a follower who goes to the session's view", () => {
    const start = run(liveAs("north"), message({ type: "view", view: view("A", 400), sentAt: 900 }));
    const next = run(start, message({ type: "presenter", presenterUserId: "south", presenterName: "South" }));
    expect(roleOf(next)).toBe("follower");
    expect(isSyncing(next)).toBe(true);
    expect(next.presenter).toEqual({ userId: "south", name: "South" });
    expect(next.moveTo?.view).toEqual(view("A", 400));
  });

  it("makes the new presenter present, not follow", () => {
    const next = run(liveAs("south"), message({ type: "presenter", presenterUserId: "south", presenterName: "South" }));
    expect(roleOf(next)).toBe("presenter");
    expect(isSyncing(next)).toBe(false);
    expect(next.moveTo).toBeNull();
  });

  it("keeps a broken-away follower on their own when the role passes between others", () => {
    const next = run(liveAs("south"), { type: "break-away" }, message({ type: "presenter", presenterUserId: "east", presenterName: "East" }));
    expect(next.following).toBe(false);
    expect(next.presenter.name).toBe("East");
  });
});

describe("pointer", () => {
  it("shows the presenter's pointer to followers on the same slide only", () => {
    const follower = run(liveAs("south"), message({ type: "pointer", slideId: "A", at: [10, 20], sentAt: 900 }));
    expect(pointerPosition(follower)).toEqual([10, 20]);
    expect(pointerPosition(run(follower, { type: "choose-slide", slideId: "B" }))).toBeNull();
    expect(pointerPosition(run(follower, message({ type: "pointer", slideId: "A", at: null, sentAt: 950 })))).toBeNull();
    const presenter = run(liveAs("north"), message({ type: "pointer", slideId: "A", at: [10, 20], sentAt: 900 }));
    expect(pointerPosition(presenter)).toBeNull();
  });
});

describe("connection and membership", () => {
  it("tracks the live connection; a removed member stays removed and the session ends for them", () => {
    let state = run(liveAs("south"), { type: "connection-opened" });
    expect(state.connection).toBe("open");
    expect(run(state, { type: "connection-failed", refused: false }).connection).toBe("lost");
    expect(run(state, { type: "connection-failed", refused: true }).connection).toBe("closed");
    state = run(state, message({ type: "member-removed", userId: "south" }));
    expect(state.connection).toBe("removed");
    expect(state.status).toBe("closed");
    expect(run(state, { type: "connection-failed", refused: true }).connection).toBe("removed");
    expect(run(liveAs("south"), message({ type: "member-removed", userId: "east" })).connection).toBe("connecting");
  });

  it("reloads the page's data when the session, the agenda or the members change", () => {
    expect(refreshesPage({ type: "agenda" }, "south")).toBe(true);
    expect(refreshesPage({ type: "status", status: "closed", presenterUserId: null, presenterName: null }, "south")).toBe(true);
    expect(refreshesPage({ type: "member-removed", userId: "east" }, "south")).toBe(true);
    expect(refreshesPage({ type: "member-removed", userId: "south" }, "south")).toBe(false);
    expect(refreshesPage({ type: "view", view: view("A"), sentAt: 1 }, "south")).toBe(false);
  });
});
