import type { AnnotationGeometry, AnnotationKind, AnnotationView, Position } from "../types";

export const annotationTools: { kind: AnnotationKind; name: string; hint: string }[] = [
  { kind: "point", name: "Point", hint: "Click to place a point." },
  { kind: "line", name: "Line", hint: "Click each point; double-click or Enter to finish." },
  { kind: "rectangle", name: "Rectangle", hint: "Drag, or click two corners." },
  { kind: "polygon", name: "Polygon", hint: "Click each corner; double-click or Enter to finish." },
  { kind: "text", name: "Text", hint: "Click where the text goes." },
];
export const kindName = Object.fromEntries(annotationTools.map((t) => [t.kind, t.name])) as Record<AnnotationKind, string>;

export function formatLength(um: number): string {
  if (um >= 1000) return `${(um / 1000).toFixed(2)} mm`;
  return `${um >= 10 ? Math.round(um) : um.toFixed(1)} µm`;
}

export function formatArea(um2: number): string {
  if (um2 >= 1e6) return `${(um2 / 1e6).toFixed(2)} mm²`;
  if (um2 >= 1e4) return `${(um2 / 1e6).toPrecision(2)} mm²`;
  return `${Math.round(um2).toLocaleString("en")} µm²`;
}

/** The measurement shown beside an annotation; shapes on a slide without a scale say so. */
export function describeMeasurement(a: AnnotationView): string {
  if (a.lengthUm !== null) return formatLength(a.lengthUm);
  if (a.areaUm2 !== null) return formatArea(a.areaUm2);
  return a.kind === "line" || a.kind === "rectangle" || a.kind === "polygon" ? "no scale" : "";
}

export function describeAnnotation(a: AnnotationView): string {
  return `${kindName[a.kind]}${a.label ? ` “${a.label}”` : ""}`;
}

export function verticesOf(g: AnnotationGeometry): Position[] {
  return g.type === "Point" ? [g.coordinates] : g.type === "LineString" ? g.coordinates : g.coordinates[0]!.slice(0, -1);
}

/** The closed ring of the rectangle with corners `a` and `b`. */
export function rectangleRing(a: Position, b: Position): Position[] {
  const [x0, x1] = [Math.min(a[0], b[0]), Math.max(a[0], b[0])];
  const [y0, y1] = [Math.min(a[1], b[1]), Math.max(a[1], b[1])];
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
    [x0, y0],
  ];
}

/** The image rectangle [x, y, width, height] to show an annotation in: its bounds with a margin, at least 400 pixels a side (a point alone would zoom in without limit). */
export function boundsToShow(g: AnnotationGeometry): [number, number, number, number] {
  const vs = verticesOf(g);
  const xs = vs.map((v) => v[0]);
  const ys = vs.map((v) => v[1]);
  const [x0, y0, x1, y1] = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
  const w = Math.max(x1 - x0, 400) * 1.4;
  const h = Math.max(y1 - y0, 400) * 1.4;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return [cx - w / 2, cy - h / 2, w, h];
}
