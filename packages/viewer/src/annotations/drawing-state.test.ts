import { describe, expect, it } from "vitest";
import type { AnnotationView, Position } from "../types";
import { type DrawingAction, type DrawingState, TEXT_NEEDS_LABEL, createDrawingState, reduceDrawing } from "./drawing-state";

// Points closer than 4 image pixels count as one click, as the viewer's screen test would at zoom 1.
const samePoint = (a: Position, b: Position) => Math.hypot(a[0] - b[0], a[1] - b[1]) < 4;
const press = (x: number, y: number): DrawingAction => ({ type: "press", at: [x, y], samePoint });
const run = (state: DrawingState, ...actions: DrawingAction[]) => actions.reduce(reduceDrawing, state);
const start = (...actions: DrawingAction[]) => run(createDrawingState([]), ...actions);

function saved(id: string, over: Partial<AnnotationView> = {}): AnnotationView {
  return {
    id,
    kind: "point",
    geometry: { type: "Point", coordinates: [1, 2] },
    label: "",
    lengthUm: null,
    areaUm2: null,
    author: { name: "A", lab: "L" },
    mine: true,
    consultRequestId: null,
    boardSessionId: null,
    createdAt: "2026-01-01T00:00:00Z",
    ...over,
  };
}

describe("choosing a tool", () => {
  it("starts drawing, and the same tool again stops", () => {
    const on = start({ type: "choose-tool", kind: "line" });
    expect(on.tool).toBe("line");
    const off = run(on, press(1, 1), { type: "choose-tool", kind: "line" });
    expect(off.tool).toBeNull();
    expect(off.draft).toEqual([]);
  });

  it("asks for the text first when Text is chosen without a label", () => {
    const state = start({ type: "choose-tool", kind: "text" });
    expect(state.tool).toBeNull();
    expect(state.message).toBe(TEXT_NEEDS_LABEL);
    expect(run(state, { type: "type-label", text: "mitosis" }, { type: "choose-tool", kind: "text" }).tool).toBe("text");
  });

  it("clears the draft and the message when another tool is chosen", () => {
    const state = start({ type: "choose-tool", kind: "polygon" }, press(1, 1), { type: "finish" }, { type: "choose-tool", kind: "line" });
    expect(state.message).toBeNull();
    expect(state.draft).toEqual([]);
  });
});

describe("drawing", () => {
  it("places a point at once with the label typed, and empties the label", () => {
    const state = start({ type: "type-label", text: "here" }, { type: "choose-tool", kind: "point" }, press(5, 6));
    expect(state.outbox).toEqual([{ key: 1, kind: "point", geometry: { type: "Point", coordinates: [5, 6] }, label: "here" }]);
    expect(state.tool).toBeNull();
    expect(state.label).toBe("");
  });

  it("extends a line click by click, skipping the second click of a double-click, and finishes it", () => {
    const state = start({ type: "choose-tool", kind: "line" }, press(0, 0), press(100, 0), press(101, 1), { type: "hover", at: [150, 0] });
    expect(state.draft).toEqual([
      [0, 0],
      [100, 0],
    ]);
    expect(state.hover).toEqual([150, 0]);
    const done = run(state, { type: "finish" });
    expect(done.outbox[0]?.geometry).toEqual({
      type: "LineString",
      coordinates: [
        [0, 0],
        [100, 0],
      ],
    });
    expect(done.hover).toBeNull();
  });

  it("says what is missing when a line or polygon is finished too early, and keeps drawing", () => {
    const line = start({ type: "choose-tool", kind: "line" }, press(0, 0), { type: "finish" });
    expect(line.message).toBe("A line needs at least 2 points.");
    expect(line.tool).toBe("line");
    const polygon = start({ type: "choose-tool", kind: "polygon" }, press(0, 0), press(10, 0), { type: "finish" });
    expect(polygon.message).toBe("A polygon needs at least 3 corners.");
    expect(polygon.draft).toHaveLength(2);
  });

  it("closes a polygon's ring", () => {
    const state = start({ type: "choose-tool", kind: "polygon" }, press(0, 0), press(10, 0), press(10, 10), { type: "finish" });
    expect(state.outbox[0]?.geometry).toEqual({
      type: "Polygon",
      coordinates: [
        [
          [0, 0],
          [10, 0],
          [10, 10],
          [0, 0],
        ],
      ],
    });
  });

  it("makes a rectangle by dragging, or by two clicks", () => {
    const dragged = start({ type: "choose-tool", kind: "rectangle" }, press(10, 10), { type: "release", at: [0, 20], samePoint });
    expect(dragged.outbox[0]?.geometry).toEqual({
      type: "Polygon",
      coordinates: [
        [
          [0, 10],
          [10, 10],
          [10, 20],
          [0, 20],
          [0, 10],
        ],
      ],
    });
    const clicked = start({ type: "choose-tool", kind: "rectangle" }, press(10, 10), { type: "release", at: [10, 11], samePoint });
    expect(clicked.outbox).toEqual([]);
    expect(clicked.draft).toEqual([[10, 10]]);
    expect(run(clicked, press(30, 40)).outbox[0]?.geometry.type).toBe("Polygon");
  });

  it("ignores presses without a tool, and a finish for tools that need none", () => {
    expect(start(press(1, 1))).toEqual(createDrawingState([]));
    const point = start({ type: "choose-tool", kind: "point" }, { type: "finish" });
    expect(point.tool).toBe("point");
    expect(point.outbox).toEqual([]);
  });

  it("cancels: no tool, no draft, no message", () => {
    const state = start({ type: "choose-tool", kind: "line" }, press(0, 0), { type: "finish" }, { type: "cancel" });
    expect(state).toMatchObject({ tool: null, draft: [], hover: null, message: null });
  });
});

describe("saving, selecting and deleting", () => {
  it("hands each finished shape out once, with its own key", () => {
    const two = start({ type: "choose-tool", kind: "point" }, press(1, 1), { type: "choose-tool", kind: "point" }, press(2, 2));
    expect(two.outbox.map((p) => p.key)).toEqual([1, 2]);
    expect(run(two, { type: "sending", key: 1 }).outbox.map((p) => p.key)).toEqual([2]);
  });

  it("lists a saved annotation; a failed save shows why and gives the label back unless a new one was typed", () => {
    const listed = start({ type: "saved", annotation: saved("a") });
    expect(listed.annotations.map((a) => a.id)).toEqual(["a"]);
    const failed = start({ type: "save-failed", label: "old", message: "Too many vertices." });
    expect(failed).toMatchObject({ label: "old", message: "Too many vertices." });
    expect(start({ type: "type-label", text: "new" }, { type: "save-failed", label: "old", message: "x" }).label).toBe("new");
  });

  it("selects a listed annotation to show it, each choice anew", () => {
    const a = saved("a", {
      geometry: {
        type: "LineString",
        coordinates: [
          [0, 0],
          [5, 5],
        ],
      },
    });
    const first = run(createDrawingState([a]), { type: "select", id: "a" });
    expect(first.shown).toEqual({ id: "a", geometry: a.geometry });
    expect(run(first, { type: "select", id: "a" }).shown).not.toBe(first.shown);
    expect(run(first, { type: "select", id: "missing" }).shown).toBe(first.shown);
  });

  it("removes a deleted annotation from the list", () => {
    const state = run(createDrawingState([saved("a"), saved("b")]), { type: "deleted", id: "a" });
    expect(state.annotations.map((a) => a.id)).toEqual(["b"]);
  });
});
