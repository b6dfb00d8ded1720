"use client";

import { useEffect, useEffectEvent, useRef, useState } from "react";
import type OpenSeadragon from "openseadragon";
import type { TileGrant } from "../types";
import { fetchSlideDescriptor, openSlideViewer } from "./open-viewer";
import { scaleBarFor } from "./scale-bar";
import { createTileTokenKeeper } from "./tile-token-keeper";

/** Asks the hub for a tile service token for a slide (tRPC `slides.tileToken`). */
export type IssueTileToken = (slideId: string) => Promise<TileGrant>;

export interface SlideViewerProps {
  slideId: string;
  mpp: number | null;
  issueTileToken: IssueTileToken;
  /** Called with the viewer once created, and with null before it is destroyed. */
  onViewer?: (viewer: OpenSeadragon.Viewer | null) => void;
  children?: React.ReactNode;
}

/**
 * The OpenSeadragon viewer of one slide. Features that work on the open viewer (annotations,
 * tumor-board view sync) receive it through `onViewer` and live in their own components.
 */
export function SlideViewer({ slideId, mpp, issueTileToken, onViewer, children }: SlideViewerProps) {
  const element = useRef<HTMLDivElement>(null);
  const viewer = useRef<OpenSeadragon.Viewer | null>(null);
  const [scale, setScale] = useState<{ pixels: number; label: string } | null>(null);
  const [zoomPercent, setZoomPercent] = useState<number | null>(null);
  const [failed, setFailed] = useState(false);
  // Read when a slide opens: a new callback identity must not reopen the slide.
  const announce = useEffectEvent((v: OpenSeadragon.Viewer | null) => onViewer?.(v));
  const issue = useEffectEvent(() => issueTileToken(slideId));

  // biome-ignore lint/correctness/useExhaustiveDependencies: slideId is read through `issue`; a new slide must reopen the viewer.
  useEffect(() => {
    let cancelled = false;
    const tokens = createTileTokenKeeper(issue);
    delete element.current?.dataset.firstViewMs;
    // The descriptor is fetched while OpenSeadragon's code loads, not after it.
    const descriptor = tokens.start().then(async (grant) => ({ grant, xml: await fetchSlideDescriptor(grant) }));
    void Promise.all([import("openseadragon"), descriptor])
      .then(([{ default: OSD }, { grant, xml }]) => {
        if (cancelled || !element.current) return;
        const v = openSlideViewer(OSD, element.current, grant, xml, tokens, () => !cancelled && Boolean(element.current));
        if (!v) return;
        // When every tile of the first field of view is drawn, in ms since the page's navigation
        // began: what bench/first-view reads; nothing in the page depends on it.
        v.addHandler("fully-loaded-change", ({ fullyLoaded }) => {
          const shell = element.current;
          if (fullyLoaded && shell && !shell.dataset.firstViewMs) shell.dataset.firstViewMs = String(Math.round(performance.now()));
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
        v.addHandler("tile-load-failed", () => void tokens.tileFailed());
        viewer.current = v;
        announce(v);
      })
      .catch(() => {
        if (!cancelled) setFailed(true);
      });
    return () => {
      cancelled = true;
      tokens.stop();
      announce(null);
      viewer.current?.destroy();
      viewer.current = null;
    };
  }, [slideId, mpp]);

  const act = (fn: (v: OpenSeadragon.Viewer) => void) => () => viewer.current && fn(viewer.current);
  return (
    <div className="viewer-shell">
      <div className="viewer-tools" role="toolbar" aria-label="Viewer controls">
        <button type="button" className="plain" onClick={act((v) => v.viewport.goHome())}>
          Fit
        </button>
        <button type="button" className="plain" onClick={act((v) => v.viewport.zoomTo(v.viewport.imageToViewportZoom(1)))}>
          100 %
        </button>
        <button type="button" className="plain" onClick={act((v) => v.viewport.zoomBy(1.5))} aria-label="Zoom in">
          +
        </button>
        <button type="button" className="plain" onClick={act((v) => v.viewport.zoomBy(1 / 1.5))} aria-label="Zoom out">
          −
        </button>
        <button type="button" className="plain" onClick={act((v) => v.viewport.setRotation(v.viewport.getRotation() - 90))} aria-label="Rotate left">
          ⟲
        </button>
        <button type="button" className="plain" onClick={act((v) => v.viewport.setRotation(v.viewport.getRotation() + 90))} aria-label="Rotate right">
          ⟳
        </button>
        <button type="button" className="plain" onClick={act((v) => v.setFullScreen(!v.isFullPage()))}>
          Full screen
        </button>
        <span className="muted" aria-live="polite" data-testid="zoom">
          {zoomPercent !== null ? `${zoomPercent} %` : ""}
        </span>
        <span className="muted">Keys: arrows pan, + / − zoom, 0 fit, r rotate</span>
        {children}
      </div>
      <div className="viewer" ref={element} data-testid="viewer">
        {failed ? (
          <p style={{ color: "#fff", padding: "1rem" }}>The slide could not be loaded. Reload the page; if it persists, the slide may have been removed.</p>
        ) : null}
        {scale ? (
          <div className="scalebar" role="img" aria-label={`Scale bar ${scale.label}`}>
            {scale.label}
            <div style={{ width: `${scale.pixels}px` }} />
          </div>
        ) : null}
      </div>
    </div>
  );
}
