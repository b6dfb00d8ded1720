"use client";

import { useEffect, useRef, useState } from "react";
import type OpenSeadragon from "openseadragon";

const niceLengths = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** Picks a round length in µm whose bar is about 120 screen pixels long. */
function scaleBarFor(micronsPerScreenPixel: number) {
  const target = 120 * micronsPerScreenPixel;
  const length = niceLengths.reduce((best, l) => (Math.abs(l - target) < Math.abs(best - target) ? l : best), niceLengths[0]!);
  return { pixels: length / micronsPerScreenPixel, label: length >= 1000 ? `${length / 1000} mm` : `${length} µm` };
}

/**
 * The OpenSeadragon viewer of one slide. Features that work on the open viewer (annotations,
 * tumor-board view sync) receive it through `onViewer` and live in their own components.
 */
export function SlideViewer({ slideId, mpp, onViewer, children }: { slideId: string; mpp: number | null; onViewer?: (viewer: OpenSeadragon.Viewer | null) => void; children?: React.ReactNode }) {
  const element = useRef<HTMLDivElement>(null);
  const viewer = useRef<OpenSeadragon.Viewer | null>(null);
  const [scale, setScale] = useState<{ pixels: number; label: string } | null>(null);
  const [zoomPercent, setZoomPercent] = useState<number | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let cancelled = false;
    void import("openseadragon").then(({ default: OSD }) => {
      if (cancelled || !element.current) return;
      const v = OSD({
        element: element.current,
        tileSources: `/tiles/${slideId}/slide.dzi`,
        showNavigator: true,
        navigatorPosition: "TOP_RIGHT",
        showNavigationControl: false,
        loadTilesWithAjax: true,
        ajaxWithCredentials: true,
        maxZoomPixelRatio: 4,
        visibilityRatio: 0.5,
        animationTime: 0.4,
        gestureSettingsTouch: { pinchRotate: true },
      });
      const update = () => {
        const imageZoom = v.viewport.viewportToImageZoom(v.viewport.getZoom(true));
        setZoomPercent(Math.round(imageZoom * 100));
        setScale(mpp ? scaleBarFor(mpp / imageZoom) : null);
      };
      v.addHandler("open", update);
      v.addHandler("animation", update);
      v.addHandler("animation-finish", update);
      v.addHandler("open-failed", () => setFailed(true));
      viewer.current = v;
      onViewer?.(v);
    });
    return () => {
      cancelled = true;
      onViewer?.(null);
      viewer.current?.destroy();
      viewer.current = null;
    };
    // onViewer is read once per opened slide on purpose: a new callback identity must not reopen the slide.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [slideId, mpp]);

  const act = (fn: (v: OpenSeadragon.Viewer) => void) => () => viewer.current && fn(viewer.current);
  return (
    <div className="viewer-shell">
      <div className="viewer-tools" role="toolbar" aria-label="Viewer controls">
        <button className="plain" onClick={act((v) => v.viewport.goHome())}>Fit</button>
        <button className="plain" onClick={act((v) => v.viewport.zoomTo(v.viewport.imageToViewportZoom(1)))}>100 %</button>
        <button className="plain" onClick={act((v) => v.viewport.zoomBy(1.5))} aria-label="Zoom in">+</button>
        <button className="plain" onClick={act((v) => v.viewport.zoomBy(1 / 1.5))} aria-label="Zoom out">−</button>
        <button className="plain" onClick={act((v) => v.viewport.setRotation(v.viewport.getRotation() - 90))} aria-label="Rotate left">⟲</button>
        <button className="plain" onClick={act((v) => v.viewport.setRotation(v.viewport.getRotation() + 90))} aria-label="Rotate right">⟳</button>
        <button className="plain" onClick={act((v) => v.setFullScreen(!v.isFullPage()))}>Full screen</button>
        <span className="muted" aria-live="polite" data-testid="zoom">{zoomPercent !== null ? `${zoomPercent} %` : ""}</span>
        <span className="muted">Keys: arrows pan, + / − zoom, 0 fit, r rotate</span>
        {children}
      </div>
      <div className="viewer" ref={element} data-testid="viewer">
        {failed ? <p style={{ color: "#fff", padding: "1rem" }}>The slide could not be loaded. Reload the page; if it persists, the slide may have been removed.</p> : null}
        {scale ? (
          <div className="scalebar" aria-label={`Scale bar ${scale.label}`}>
            {scale.label}
            <div style={{ width: `${scale.pixels}px` }} />
          </div>
        ) : null}
      </div>
    </div>
  );
}
