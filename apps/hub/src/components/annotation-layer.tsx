"use client";

import { createTRPCClient, httpLink } from "@trpc/client";
import { useEffect, useRef, useState } from "react";
import { createPortal } from "react-dom";
import type OpenSeadragon from "openseadragon";
import type { AnnotationGeometry, AnnotationKind, AnnotationView, AppRouter } from "@pathx/api";
import { SlideViewer } from "./slide-viewer";

const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: "/api/trpc" })] });

type Position = [number, number];

const tools: { kind: AnnotationKind; name: string; hint: string }[] = [
  { kind: "point", name: "Point", hint: "Click to place a point." },
  { kind: "line", name: "Line", hint: "Click each point; double-click or Enter to finish." },
  { kind: "rectangle", name: "Rectangle", hint: "Drag, or click two corners." },
  { kind: "polygon", name: "Polygon", hint: "Click each corner; double-click or Enter to finish." },
  { kind: "text", name: "Text", hint: "Click where the text goes." },
];
const kindName = Object.fromEntries(tools.map((t) => [t.kind, t.name])) as Record<AnnotationKind, string>;

/** Closer than this on screen counts as the same click (a double-click sends two). */
const SAME_POINT_PX = 4;

export function formatLength(um: number): string {
  if (um >= 1000) return `${(um / 1000).toFixed(2)} mm`;
  return `${um >= 10 ? Math.round(um) : um.toFixed(1)} µm`;
}

export function formatArea(um2: number): string {
  if (um2 >= 1e6) return `${(um2 / 1e6).toFixed(2)} mm²`;
  if (um2 >= 1e4) return `${(um2 / 1e6).toPrecision(2)} mm²`;
  return `${Math.round(um2).toLocaleString("en")} µm²`;
}

function measurement(a: AnnotationView): string {
  if (a.lengthUm !== null) return formatLength(a.lengthUm);
  if (a.areaUm2 !== null) return formatArea(a.areaUm2);
  return a.kind === "line" || a.kind === "rectangle" || a.kind === "polygon" ? "no scale" : "";
}

function verticesOf(g: AnnotationGeometry): Position[] {
  return g.type === "Point" ? [g.coordinates] : g.type === "LineString" ? g.coordinates : g.coordinates[0]!.slice(0, -1);
}

function rectangleRing(a: Position, b: Position): Position[] {
  const [x0, x1] = [Math.min(a[0], b[0]), Math.max(a[0], b[0])];
  const [y0, y1] = [Math.min(a[1], b[1]), Math.max(a[1], b[1])];
  return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]];
}

/**
 * The slide viewer with annotations: tools in its toolbar, shapes in an SVG laid over the
 * viewer that follows pan, zoom and rotation, and a list beside it. Geometry is kept in level-0
 * slide pixels; the hub measures it.
 */
/**
 * `shareWith`: annotations drawn while viewing through a consult or board grant are attached to
 * it, so the requesting lab or the board sees them.
 */
export function AnnotatedSlideViewer({
  slideId,
  mpp,
  initial,
  shareWith,
}: {
  slideId: string;
  mpp: number | null;
  initial: AnnotationView[];
  shareWith?: { consultRequestId?: string; boardSessionId?: string };
}) {
  const [viewer, setViewer] = useState<OpenSeadragon.Viewer | null>(null);
  const point = useRef<typeof OpenSeadragon.Point | null>(null);
  const svg = useRef<SVGSVGElement>(null);
  const labelInput = useRef<HTMLInputElement>(null);
  const [annotations, setAnnotations] = useState(initial);
  const [tool, setTool] = useState<AnnotationKind | null>(null);
  const [draft, setDraft] = useState<Position[]>([]);
  const [hover, setHover] = useState<Position | null>(null);
  const [label, setLabel] = useState("");
  const [message, setMessage] = useState<string | null>(null);
  const [, setFrame] = useState(0);

  useEffect(() => {
    if (!viewer) return;
    void import("openseadragon").then(({ default: OSD }) => {
      point.current = OSD.Point;
      setFrame((f) => f + 1);
    });
    // Shapes are re-projected on every drawn frame, so they stay on the tissue while it moves.
    const redraw = () => setFrame((f) => f + 1);
    viewer.addHandler("update-viewport", redraw);
    viewer.addHandler("open", redraw);
    return () => {
      viewer.removeHandler("update-viewport", redraw);
      viewer.removeHandler("open", redraw);
    };
  }, [viewer]);

  // While a tool is active clicks draw instead of panning.
  useEffect(() => {
    viewer?.setMouseNavEnabled(!tool);
  }, [viewer, tool]);

  const Point = point.current;
  const ready = Boolean(viewer && Point && viewer.world.getItemCount() > 0);
  const toScreen = ([x, y]: Position): Position => {
    const p = viewer!.viewport.imageToViewerElementCoordinates(new Point!(x, y));
    return [p.x, p.y];
  };
  const imageSize = () => viewer!.world.getItemAt(0)!.getContentSize();
  /** Image pixel under the pointer, kept on the slide and rounded to a hundredth of a pixel. */
  const toImage = (event: React.PointerEvent | React.MouseEvent): Position => {
    const box = svg.current!.getBoundingClientRect();
    const p = viewer!.viewport.viewerElementToImageCoordinates(new Point!(event.clientX - box.left, event.clientY - box.top));
    const size = imageSize();
    const keep = (v: number, max: number) => Math.round(Math.min(Math.max(v, 0), max) * 100) / 100;
    return [keep(p.x, size.x), keep(p.y, size.y)];
  };
  const nearOnScreen = (a: Position, b: Position) => {
    const [sa, sb] = [toScreen(a), toScreen(b)];
    return Math.hypot(sa[0] - sb[0], sa[1] - sb[1]) < SAME_POINT_PX;
  };

  function stop() {
    setTool(null);
    setDraft([]);
    setHover(null);
  }

  function choose(kind: AnnotationKind) {
    setMessage(null);
    setDraft([]);
    if (tool === kind) return stop();
    if (kind === "text" && !label.trim()) {
      setMessage("Type the text in the Label field first, then choose Text.");
      labelInput.current?.focus();
      return;
    }
    setTool(kind);
  }

  async function save(kind: AnnotationKind, geometry: AnnotationGeometry) {
    stop();
    // The field empties now, not on the answer: the next label may be typed while this one saves.
    const text = label;
    setLabel("");
    try {
      const created = await api.annotations.create.mutate({ slideId, kind, geometry, label: text, ...shareWith });
      setAnnotations((list) => [...list, created]);
      setMessage(null);
    } catch (error) {
      setLabel((now) => now || text);
      setMessage(error instanceof Error ? error.message : "The annotation could not be saved.");
    }
  }

  /** Ends a line or polygon; too few points say so and keep drawing. */
  function finish(points = draft) {
    if (tool === "line") {
      if (points.length < 2) return setMessage("A line needs at least 2 points.");
      return save("line", { type: "LineString", coordinates: points });
    }
    if (tool === "polygon") {
      if (points.length < 3) return setMessage("A polygon needs at least 3 corners.");
      return save("polygon", { type: "Polygon", coordinates: [[...points, points[0]!]] });
    }
  }

  function onPointerDown(event: React.PointerEvent) {
    if (!tool || event.button !== 0 || !ready) return;
    event.preventDefault();
    svg.current!.setPointerCapture(event.pointerId);
    const p = toImage(event);
    if (tool === "point" || tool === "text") return void save(tool, { type: "Point", coordinates: p });
    if (tool === "rectangle") {
      if (draft.length === 0) return setDraft([p]);
      if (!nearOnScreen(draft[0]!, p)) return void save("rectangle", { type: "Polygon", coordinates: [rectangleRing(draft[0]!, p)] });
      return;
    }
    if (draft.length && nearOnScreen(draft.at(-1)!, p)) return;
    setDraft([...draft, p]);
  }

  function onPointerUp(event: React.PointerEvent) {
    // A drag makes the rectangle; a click without moving waits for the second corner.
    if (tool !== "rectangle" || draft.length !== 1) return;
    const p = toImage(event);
    if (!nearOnScreen(draft[0]!, p)) void save("rectangle", { type: "Polygon", coordinates: [rectangleRing(draft[0]!, p)] });
  }

  useEffect(() => {
    if (!tool) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        stop();
        setMessage(null);
      } else if (event.key === "Enter" && (tool === "line" || tool === "polygon")) {
        // Not also a click on the focused toolbar button.
        event.preventDefault();
        void finish();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  });

  async function remove(a: AnnotationView) {
    try {
      await api.annotations.remove.mutate({ id: a.id });
      setAnnotations((list) => list.filter((x) => x.id !== a.id));
    } catch (error) {
      setMessage(error instanceof Error ? error.message : "The annotation could not be deleted.");
    }
  }

  function goTo(a: AnnotationView) {
    if (!viewer) return;
    const vs = verticesOf(a.geometry);
    const xs = vs.map((v) => v[0]);
    const ys = vs.map((v) => v[1]);
    const [x0, y0] = [Math.min(...xs), Math.min(...ys)];
    // At least 400 image pixels around it: a point alone would zoom in without limit.
    const w = Math.max(Math.max(...xs) - x0, 400) * 1.4;
    const h = Math.max(Math.max(...ys) - y0, 400) * 1.4;
    const cx = (x0 + Math.max(...xs)) / 2;
    const cy = (y0 + Math.max(...ys)) / 2;
    viewer.viewport.fitBounds(viewer.viewport.imageToViewportRectangle(cx - w / 2, cy - h / 2, w, h));
  }

  const describe = (a: AnnotationView) => `${kindName[a.kind]}${a.label ? ` “${a.label}”` : ""}`;
  const activeHint = tools.find((t) => t.kind === tool)?.hint;

  const overlay =
    viewer && ready ? (
      <svg
        ref={svg}
        className="annotation-overlay"
        data-testid="annotation-overlay"
        style={{ pointerEvents: tool ? "auto" : "none", cursor: tool ? "crosshair" : undefined }}
        onPointerDown={onPointerDown}
        onPointerUp={onPointerUp}
        onPointerMove={(e) => tool && setHover(toImage(e))}
        onDoubleClick={() => void finish()}
      >
        {annotations.map((a) => (
          <Shape key={a.id} annotation={a} toScreen={toScreen} width={viewer.element.clientWidth} />
        ))}
        <Draft tool={tool} points={draft} hover={hover} toScreen={toScreen} />
      </svg>
    ) : null;

  return (
    <div className="annotated">
      <SlideViewer slideId={slideId} mpp={mpp} onViewer={setViewer}>
        <span className="annotation-tools" role="group" aria-label="Annotation tools">
          {tools.map((t) => (
            <button key={t.kind} type="button" className="plain" aria-pressed={tool === t.kind} onClick={() => choose(t.kind)}>
              {t.name}
            </button>
          ))}
          <input ref={labelInput} aria-label="Annotation label" placeholder="Label" value={label} maxLength={500} onChange={(e) => setLabel(e.target.value)} />
        </span>
      </SlideViewer>
      {viewer?.element && overlay ? createPortal(overlay, viewer.element) : null}
      <aside className="annotation-panel" aria-label="Annotations">
        <h2>Annotations ({annotations.length})</h2>
        {/* Here, not in the toolbar: a toolbar that grows would resize the viewer under the pointer. */}
        <p role="status" className="annotation-hint">
          {activeHint ? `${activeHint} Esc cancels.` : ""}
        </p>
        {/* Touch screens have no double-click or Enter. */}
        {(tool === "line" || tool === "polygon") && draft.length >= 2 ? (
          <button type="button" className="plain small" onClick={() => void finish()}>
            Finish {kindName[tool].toLowerCase()}
          </button>
        ) : null}
        <a href={`/slides/${slideId}/annotations.geojson`} download>
          Export GeoJSON
        </a>
        {message ? (
          <p className="error" role="alert">
            {message}
          </p>
        ) : null}
        {annotations.length === 0 ? <p className="muted">None yet. Choose a tool above the slide and draw on it.</p> : null}
        <ul>
          {annotations.map((a) => (
            <li key={a.id} data-testid="annotation-item">
              <button type="button" className="link" onClick={() => goTo(a)} aria-label={`Show ${describe(a)} on the slide`}>
                {describe(a)}
              </button>{" "}
              <strong>{measurement(a)}</strong>
              <div className="muted">
                {a.author.name}, {a.author.lab}
                {a.consultRequestId ? " · shared with the consult" : a.boardSessionId ? " · shared with the board" : ""}
              </div>
              {a.mine ? (
                <button type="button" className="plain small" onClick={() => void remove(a)} aria-label={`Delete ${describe(a)}`}>
                  Delete
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      </aside>
    </div>
  );
}

type ToScreen = (p: Position) => Position;
const pointsAttr = (ps: Position[], toScreen: ToScreen) => ps.map((p) => toScreen(p).join(",")).join(" ");

/** One saved annotation with its label and measurement. */
function Shape({ annotation: a, toScreen, width }: { annotation: AnnotationView; toScreen: ToScreen; width: number }) {
  const vs = verticesOf(a.geometry);
  const screen = vs.map(toScreen);
  const text = [a.label, measurement(a)].filter(Boolean).join(" · ");
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
function Draft({ tool, points, hover, toScreen }: { tool: AnnotationKind | null; points: Position[]; hover: Position | null; toScreen: ToScreen }) {
  if (!tool || !points.length) return null;
  const style = { fill: "none", stroke: "#fff", strokeWidth: 2, strokeDasharray: "6 4" };
  if (tool === "rectangle") return hover ? <polygon points={pointsAttr(rectangleRing(points[0]!, hover).slice(0, 4), toScreen)} {...style} /> : null;
  const path = hover ? [...points, hover] : points;
  return (
    <g>
      {tool === "polygon" && path.length > 2 ? <polygon points={pointsAttr(path, toScreen)} {...style} /> : <polyline points={pointsAttr(path, toScreen)} {...style} />}
      {points.map((p, i) => {
        const [x, y] = toScreen(p);
        return <circle key={i} cx={x} cy={y} r={3} fill="#fff" />;
      })}
    </g>
  );
}
