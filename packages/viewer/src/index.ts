/**
 * @pathx/viewer: the slide viewer, its annotations and the live board view. State lives in pure
 * reducers (board-state, drawing-state, tile-token-keeper); the components receive the hub's
 * network access as clients (`AnnotationClient`, `BoardClient`, `IssueTileToken`).
 */
export { SlideViewer, type IssueTileToken, type SlideViewerProps } from "./slide/slide-viewer";
export { AnnotatedSlideViewer, type AnnotationClient, type NewAnnotation } from "./annotations/annotated-slide-viewer";
export { formatArea, formatLength } from "./annotations/geometry";
export { BoardLive, type BoardLiveProps, type BoardSlide } from "./board/board-live";
export type { BoardClient, SharedMessage } from "./board/board-client";
export type {
  AnnotationGeometry,
  AnnotationKind,
  AnnotationView,
  BoardEvent,
  BoardSnapshot,
  BoardStreamMessage,
  BoardView,
  Position,
  SessionStatus,
  TileGrant,
} from "./types";
