import type { AnnotationKind, AnnotationView, Position } from "../types";
import { describeMeasurement, rectangleRing, verticesOf } from "./geometry";

export type ToScreen = (p: Position) => Position;
const pointsAttr = (ps: Position[], toScreen: ToScreen) => ps.map((p) => toScreen(p).join(",")).join(" ");

/** One saved annotation with its label and measurement. */
export function AnnotationShape({ annotation: a, toScreen, width }: { annotation: AnnotationView; toScreen: ToScreen; width: number }) {
  const vs = verticesOf(a.geometry);
  const screen = vs.map(toScreen);
  const text = [a.label, describeMeasurement(a)].filter(Boolean).join(" · ");
  const colour = a.mine ? "#ffd400" : "#38d3ff";
  let anchor: Position;
  let shape: React.ReactNode;
  // Beside its point or the line's end, on the side with room in the view.
  const side = (p: Position, dy: number): Position => (p[0] > width * 0.7 ? [p[0] - 8, p[1] + dy] : [p[0] + 8, p[1] + dy]);
  if (a.geometry.type === "Point") {
    anchor = side(screen[0]!, 4);
    shape = <circle cx={screen[0]![0]} cy={screen[0]![1]} r={a.kind === "text" ? 3 : 5} fill={colour} stroke="#000" />;
  } else if (a.geometry.type === "LineString") {
    anchor = side(screen.at(-1)!, -6);
    shape = <polyline points={pointsAttr(vs, toScreen)} fill="none" stroke={colour} strokeWidth={2} />;
  } else {
    // Label at the centre of the corners: inside for the usual convex outline.
    anchor = [screen.reduce((s, p) => s + p[0], 0) / screen.length, screen.reduce((s, p) => s + p[1], 0) / screen.length];
    shape = <polygon points={pointsAttr(vs, toScreen)} fill={`${colour}22`} stroke={colour} strokeWidth={2} />;
  }
  const textAnchor = a.geometry.type === "Polygon" ? "middle" : anchor[0] < screen.at(-1)![0] ? "end" : "start";
  return (
    <g data-kind={a.kind}>
      {shape}
      {text ? (
        <text x={anchor[0]} y={anchor[1]} textAnchor={textAnchor} className={a.kind === "text" ? "annotation-text big" : "annotation-text"}>
          {text}
        </text>
      ) : null}
    </g>
  );
}

/** The shape being drawn, to the pointer. */
export function DraftShape({ tool, points, hover, toScreen }: { tool: AnnotationKind | null; points: Position[]; hover: Position | null; toScreen: ToScreen }) {
  if (!tool || !points.length) return null;
  const style = { fill: "none", stroke: "#fff", strokeWidth: 2, strokeDasharray: "6 4" };
  if (tool === "rectangle") return hover ? <polygon points={pointsAttr(rectangleRing(points[0]!, hover).slice(0, 4), toScreen)} {...style} /> : null;
  const path = hover ? [...points, hover] : points;
  return (
    <g>
      {tool === "polygon" && path.length > 2 ? (
        <polygon points={pointsAttr(path, toScreen)} {...style} />
      ) : (
        <polyline points={pointsAttr(path, toScreen)} {...style} />
      )}
      {points.map((p, i) => {
        const [x, y] = toScreen(p);
        // biome-ignore lint/suspicious/noArrayIndexKey: vertices have no identity but their place in the draft.
        return <circle key={`${i}:${x},${y}`} cx={x} cy={y} r={3} fill="#fff" />;
      })}
    </g>
  );
}
