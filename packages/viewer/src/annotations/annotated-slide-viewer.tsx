"use client";

import { useEffect, useReducer, useRef, useState } from "react";
import { createPortal } from "react-dom";
import type OpenSeadragon from "openseadragon";
import { type IssueTileToken, SlideViewer } from "../slide/slide-viewer";
import type { AnnotationGeometry, AnnotationKind, AnnotationView } from "../types";
import { AnnotationShape, DraftShape } from "./annotation-shapes";
import { createDrawingState, reduceDrawing } from "./drawing-state";
import { annotationTools, boundsToShow, describeAnnotation, describeMeasurement, kindName } from "./geometry";
import { useAnnotationSaving } from "./use-annotation-saving";
import { useViewerProjection } from "./use-viewer-projection";

export interface NewAnnotation {
  slideId: string;
  kind: AnnotationKind;
  geometry: AnnotationGeometry;
  label: string;
  consultRequestId?: string;
  boardSessionId?: string;
}

/** What the annotations need from the hub; a rejection's message is shown to the user. */
export interface AnnotationClient {
  issueTileToken: IssueTileToken;
  create(input: NewAnnotation): Promise<AnnotationView>;
  remove(id: string): Promise<unknown>;
}

/**
 * The slide viewer with annotations: tools in its toolbar, shapes in an SVG laid over the
 * viewer that follows pan, zoom and rotation, and a list beside it. Geometry is kept in level-0
 * slide pixels; the hub measures it.
 *
 * `shareWith`: annotations drawn while viewing through a consult or board grant are attached to
 * it, so the requesting lab or the board sees them.
 */
export function AnnotatedSlideViewer({
  slideId,
  mpp,
  initial,
  shareWith,
  exportHref,
  client,
}: {
  slideId: string;
  mpp: number | null;
  initial: AnnotationView[];
  shareWith?: { consultRequestId?: string; boardSessionId?: string };
  /** The GeoJSON download of the slide's annotations. */
  exportHref: string;
  client: AnnotationClient;
}) {
  const [viewer, setViewer] = useState<OpenSeadragon.Viewer | null>(null);
  const [state, dispatch] = useReducer(reduceDrawing, initial, createDrawingState);
  const labelInput = useRef<HTMLInputElement>(null);
  const projection = useViewerProjection(viewer);
  const { annotations, tool, draft, hover, label, message } = state;

  // While a tool is active clicks draw instead of panning.
  useEffect(() => {
    viewer?.setMouseNavEnabled(!tool);
  }, [viewer, tool]);

  const remove = useAnnotationSaving(
    state.outbox,
    dispatch,
    (p) => client.create({ slideId, kind: p.kind, geometry: p.geometry, label: p.label, ...shareWith }),
    client.remove,
  );

  // A chosen annotation is shown in the middle of the viewer.
  const shown = state.shown;
  useEffect(() => {
    if (viewer && shown) viewer.viewport.fitBounds(viewer.viewport.imageToViewportRectangle(...boundsToShow(shown.geometry)));
  }, [viewer, shown]);

  useEffect(() => {
    if (!tool) return;
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") dispatch({ type: "cancel" });
      else if (event.key === "Enter" && (tool === "line" || tool === "polygon")) {
        // Not also a click on the focused toolbar button.
        event.preventDefault();
        dispatch({ type: "finish" });
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [tool]);

  function choose(kind: AnnotationKind) {
    dispatch({ type: "choose-tool", kind });
    if (kind === "text" && tool !== kind && !label.trim()) labelInput.current?.focus();
  }

  function onPointerDown(event: React.PointerEvent<SVGSVGElement>) {
    if (!tool || event.button !== 0 || !projection) return;
    event.preventDefault();
    event.currentTarget.setPointerCapture(event.pointerId);
    dispatch({ type: "press", at: projection.toImage(event, event.currentTarget), samePoint: projection.samePoint });
  }

  const activeHint = annotationTools.find((t) => t.kind === tool)?.hint;
  const overlay =
    viewer && projection ? (
      <svg
        className="annotation-overlay"
        data-testid="annotation-overlay"
        aria-label="Annotations"
        style={{ pointerEvents: tool ? "auto" : "none", cursor: tool ? "crosshair" : undefined }}
        onPointerDown={onPointerDown}
        onPointerUp={(e) => tool === "rectangle" && dispatch({ type: "release", at: projection.toImage(e, e.currentTarget), samePoint: projection.samePoint })}
        onPointerMove={(e) => tool && dispatch({ type: "hover", at: projection.toImage(e, e.currentTarget) })}
        onDoubleClick={() => dispatch({ type: "finish" })}
      >
        {annotations.map((a) => (
          <AnnotationShape key={a.id} annotation={a} toScreen={projection.toScreen} width={viewer.element.clientWidth} />
        ))}
        <DraftShape tool={tool} points={draft} hover={hover} toScreen={projection.toScreen} />
      </svg>
    ) : null;

  return (
    <div className="annotated">
      <SlideViewer slideId={slideId} mpp={mpp} issueTileToken={client.issueTileToken} onViewer={setViewer}>
        {/* biome-ignore lint/a11y/useSemanticElements: an inline group inside the viewer toolbar; a <fieldset> would break the toolbar line. */}
        <span className="annotation-tools" role="group" aria-label="Annotation tools">
          {annotationTools.map((t) => (
            <button key={t.kind} type="button" className="plain" aria-pressed={tool === t.kind} onClick={() => choose(t.kind)}>
              {t.name}
            </button>
          ))}
          <input
            ref={labelInput}
            aria-label="Annotation label"
            placeholder="Label"
            value={label}
            maxLength={500}
            onChange={(e) => dispatch({ type: "type-label", text: e.target.value })}
          />
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
          <button type="button" className="plain small" onClick={() => dispatch({ type: "finish" })}>
            Finish {kindName[tool].toLowerCase()}
          </button>
        ) : null}
        <a href={exportHref} download>
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
              <button
                type="button"
                className="link"
                onClick={() => dispatch({ type: "select", id: a.id })}
                aria-label={`Show ${describeAnnotation(a)} on the slide`}
              >
                {describeAnnotation(a)}
              </button>{" "}
              <strong>{describeMeasurement(a)}</strong>
              <div className="muted">
                {a.author.name}, {a.author.lab}
                {a.consultRequestId ? " · shared with the consult" : a.boardSessionId ? " · shared with the board" : ""}
              </div>
              {a.mine ? (
                <button type="button" className="plain small" onClick={() => void remove(a.id)} aria-label={`Delete ${describeAnnotation(a)}`}>
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
