/**
 * The shapes the viewer exchanges with the hub. They mirror `@pathx/api`'s (structurally, so the
 * hub passes its own values in) without importing server code into the browser bundle.
 */

/** A point in level-0 slide pixels. */
export type Position = [number, number];

/** The presenter's view: slide, centre in image pixels, OpenSeadragon viewport zoom, rotation in degrees. */
export interface BoardView {
  slideId: string;
  centre: Position;
  zoom: number;
  rotation: number;
}

export type SessionStatus = "planned" | "live" | "closed";

/** What the live stream of a board session sends; `sentAt` is the presenter's clock (ms since epoch). */
export type BoardEvent =
  | { type: "view"; view: BoardView; sentAt: number }
  | { type: "pointer"; slideId: string; at: Position | null; sentAt: number }
  | { type: "presenter"; presenterUserId: string; presenterName: string }
  | { type: "status"; status: "live" | "closed"; presenterUserId: string | null; presenterName: string | null }
  | { type: "agenda" }
  | { type: "member-removed"; userId: string };

/** The stream's first message: the session as it is now. */
export interface BoardSnapshot {
  status: SessionStatus;
  presenterUserId: string | null;
  presenterName: string | null;
  view: BoardView | null;
}
export type BoardStreamMessage = BoardEvent | ({ type: "state" } & BoardSnapshot);

export type AnnotationKind = "point" | "line" | "rectangle" | "polygon" | "text";
export type AnnotationGeometry =
  | { type: "Point"; coordinates: Position }
  | { type: "LineString"; coordinates: Position[] }
  | { type: "Polygon"; coordinates: Position[][] };

export interface AnnotationView {
  id: string;
  kind: AnnotationKind;
  geometry: AnnotationGeometry;
  label: string;
  lengthUm: number | null;
  areaUm2: number | null;
  author: { name: string; lab: string };
  /** The viewer wrote it, so may delete it. */
  mine: boolean;
  consultRequestId: string | null;
  boardSessionId: string | null;
  createdAt: string;
}

/** A tile service token for one slide, as the hub issues it. */
export interface TileGrant {
  token: string;
  /** ms since epoch */
  expiresAt: number;
  dziUrl: string;
}
