import type { AnnotationGeometry, AnnotationKind, AnnotationView, Position } from "../types";
import { rectangleRing } from "./geometry";

/** A shape drawn and waiting to be saved by the hub. */
export interface PendingAnnotation {
  key: number;
  kind: AnnotationKind;
  geometry: AnnotationGeometry;
  label: string;
}

/** The annotations of one slide and the drawing in progress, changed only by `reduceDrawing`. */
export interface DrawingState {
  annotations: AnnotationView[];
  tool: AnnotationKind | null;
  /** Points placed so far (image pixels). */
  draft: Position[];
  /** The pointer, while a tool is active. */
  hover: Position | null;
  label: string;
  message: string | null;
  /** Finished shapes not yet handed to the hub. */
  outbox: PendingAnnotation[];
  nextKey: number;
  /** The annotation the viewer moves to; a new object each time one is chosen. */
  shown: { id: string; geometry: AnnotationGeometry } | null;
}

/** Whether two image points are the same click on screen (a double-click sends two). */
export type SamePoint = (a: Position, b: Position) => boolean;

export type DrawingAction =
  | { type: "choose-tool"; kind: AnnotationKind }
  | { type: "type-label"; text: string }
  | { type: "press"; at: Position; samePoint: SamePoint }
  | { type: "release"; at: Position; samePoint: SamePoint }
  | { type: "hover"; at: Position }
  | { type: "finish" }
  | { type: "cancel" }
  | { type: "sending"; key: number }
  | { type: "saved"; annotation: AnnotationView }
  | { type: "save-failed"; label: string; message: string }
  | { type: "select"; id: string }
  | { type: "deleted"; id: string }
  | { type: "failed"; message: string };

export const TEXT_NEEDS_LABEL = "Type the text in the Label field first, then choose Text.";

export function createDrawingState(annotations: AnnotationView[]): DrawingState {
  return { annotations, tool: null, draft: [], hover: null, label: "", message: null, outbox: [], nextKey: 1, shown: null };
}

function stop(state: DrawingState): DrawingState {
  return { ...state, tool: null, draft: [], hover: null };
}

/** Ends the drawing and queues the shape with the label typed; the field empties at once, so the next label may be typed while this one saves. */
function complete(state: DrawingState, kind: AnnotationKind, geometry: AnnotationGeometry): DrawingState {
  const pending = { key: state.nextKey, kind, geometry, label: state.label };
  return { ...stop(state), label: "", outbox: [...state.outbox, pending], nextKey: state.nextKey + 1 };
}

/** Ends a line or polygon; too few points say so and keep drawing. */
function finish(state: DrawingState): DrawingState {
  const points = state.draft;
  if (state.tool === "line") {
    if (points.length < 2) return { ...state, message: "A line needs at least 2 points." };
    return complete(state, "line", { type: "LineString", coordinates: points });
  }
  if (state.tool === "polygon") {
    if (points.length < 3) return { ...state, message: "A polygon needs at least 3 corners." };
    return complete(state, "polygon", { type: "Polygon", coordinates: [[...points, points[0]!]] });
  }
  return state;
}

function press(state: DrawingState, p: Position, samePoint: SamePoint): DrawingState {
  const { tool, draft } = state;
  if (!tool) return state;
  if (tool === "point" || tool === "text") return complete(state, tool, { type: "Point", coordinates: p });
  if (tool === "rectangle") {
    if (draft.length === 0) return { ...state, draft: [p] };
    return samePoint(draft[0]!, p) ? state : complete(state, "rectangle", { type: "Polygon", coordinates: [rectangleRing(draft[0]!, p)] });
  }
  if (draft.length && samePoint(draft.at(-1)!, p)) return state;
  return { ...state, draft: [...draft, p] };
}

export function reduceDrawing(state: DrawingState, action: DrawingAction): DrawingState {
  switch (action.type) {
    case "choose-tool": {
      const next = { ...state, message: null, draft: [] };
      if (state.tool === action.kind) return stop(next);
      if (action.kind === "text" && !state.label.trim()) return { ...next, message: TEXT_NEEDS_LABEL };
      return { ...next, tool: action.kind };
    }
    case "type-label":
      return { ...state, label: action.text };
    case "press":
      return press(state, action.at, action.samePoint);
    case "release":
      // A drag makes the rectangle; a click without moving waits for the second corner.
      if (state.tool !== "rectangle" || state.draft.length !== 1 || action.samePoint(state.draft[0]!, action.at)) return state;
      return complete(state, "rectangle", { type: "Polygon", coordinates: [rectangleRing(state.draft[0]!, action.at)] });
    case "hover":
      return state.tool ? { ...state, hover: action.at } : state;
    case "finish":
      return finish(state);
    case "cancel":
      return { ...stop(state), message: null };
    case "sending":
      return { ...state, outbox: state.outbox.filter((p) => p.key !== action.key) };
    case "saved":
      return { ...state, annotations: [...state.annotations, action.annotation], message: null };
    case "save-failed":
      // The label comes back unless a new one has been typed meanwhile.
      return { ...state, label: state.label || action.label, message: action.message };
    case "select": {
      const chosen = state.annotations.find((a) => a.id === action.id);
      return chosen ? { ...state, shown: { id: chosen.id, geometry: chosen.geometry } } : state;
    }
    case "deleted":
      return { ...state, annotations: state.annotations.filter((a) => a.id !== action.id) };
    case "failed":
      return { ...state, message: action.message };
  }
}
