"use client";

import { createTRPCClient, httpLink } from "@trpc/client";
import { createContext, useContext, useEffect, useRef, useState } from "react";
import type OpenSeadragon from "openseadragon";
import type { AppRouter, TileAccessGrant } from "@pathx/api";

const api = createTRPCClient<AppRouter>({ links: [httpLink({ url: "/api/trpc" })] });

const niceLengths = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** Picks a round length in µm whose bar is about 120 screen pixels long. */
function scaleBarFor(micronsPerScreenPixel: number) {
  const target = 120 * micronsPerScreenPixel;
  const length = niceLengths.reduce((best, l) => (Math.abs(l - target) < Math.abs(best - target) ? l : best), niceLengths[0]!);
  return { pixels: length / micronsPerScreenPixel, label: length >= 1000 ? `${length / 1000} mm` : `${length} µm` };
}

/** A tile grant issued with the slide page, so the viewer asks for the DZI without a round trip to the hub first. */
const PageTileGrant = createContext<(TileAccessGrant & { slideId: string }) | null>(null);

/** Hands the viewers below the grant the server issued for `grant.slideId` while rendering the page. */
export function TileGrantProvider({ grant, children }: { grant: (TileAccessGrant & { slideId: string }) | null; children: React.ReactNode }) {
  return <PageTileGrant.Provider value={grant}>{children}</PageTileGrant.Provider>;
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
  const pageGrant = useContext(PageTileGrant);

  useEffect(() => {
    let cancelled = false;
    let renewal: ReturnType<typeof setTimeout> | undefined;
    // The tile service's token for this slide: asked when the viewer opens and renewed while it
    // is open. Tile URLs are read when a tile is fetched, so a renewal reloads nothing.
    let token = "";
    let renewing: Promise<void> | undefined;
    const take = (grant: { token: string; expiresAt: number }) => {
      token = grant.token;
      clearTimeout(renewal);
      // Renewed at about two thirds of its lifetime; once the grant has ended the hub refuses.
      renewal = setTimeout(() => void renew(), Math.max(5_000, ((grant.expiresAt - Date.now()) * 2) / 3));
    };
    const renew = () =>
      (renewing ??= api.slides.tileToken
        .mutate({ id: slideId })
        .then(take, () => {})
        .finally(() => {
          renewing = undefined;
        }));
    let lastFailureRenewal = 0;
    delete element.current?.dataset.firstViewMs;
    // The page's grant if it is this slide's and has a minute left, else a new one; the DZI is
    // fetched while OpenSeadragon's code loads, not after it.
    const firstGrant =
      pageGrant?.slideId === slideId && pageGrant.expiresAt - Date.now() > 60_000 ? Promise.resolve(pageGrant) : api.slides.tileToken.mutate({ id: slideId });
    const descriptor = firstGrant.then(async (grant) => {
      const response = await fetch(`${grant.dziUrl}?t=${encodeURIComponent(grant.token)}`);
      if (!response.ok) throw new Error(`descriptor: ${response.status}`);
      return { grant, xml: await response.text() };
    });
    void Promise.all([import("openseadragon"), descriptor]).then(async ([{ default: OSD }, { grant, xml }]) => {
      if (cancelled || !element.current) return;
      take(grant);
      const image = new DOMParser().parseFromString(xml, "application/xml").documentElement;
      const size = image.getElementsByTagName("Size")[0]!;
      const tilesUrl = grant.dziUrl.replace(/\.dzi$/, "_files/");
      const format = image.getAttribute("Format") ?? "jpeg";
      const source = new OSD.DziTileSource(
        Number(size.getAttribute("Width")),
        Number(size.getAttribute("Height")),
        Number(image.getAttribute("TileSize")),
        Number(image.getAttribute("Overlap")),
        tilesUrl,
        format,
      );
      // A URL getter: OpenSeadragon reads it when it fetches the tile, and keys its cache by level/x/y.
      source.getTileUrl = ((level: number, x: number, y: number) => () => `${tilesUrl}${level}/${x}_${y}.${format}?t=${encodeURIComponent(token)}`) as unknown as typeof source.getTileUrl;
      if (cancelled || !element.current) return;
      const v = OSD({
        element: element.current,
        tileSources: source as unknown as OpenSeadragon.TileSourceOptions, // a TileSource instance is accepted; the types miss it
        crossOriginPolicy: "Anonymous",
        // The 2D canvas drawer, not OpenSeadragon's default WebGL one: without a GPU (software
        // WebGL: remote desktops, headless Chromium) each WebGL frame is read back into a 2D canvas,
        // frames take 100–500 ms and the first field of view came 2–7× later (bench/first-view).
        drawer: "canvas",
        showNavigator: true,
        navigatorPosition: "TOP_RIGHT",
        showNavigationControl: false,
        loadTilesWithAjax: true,
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
      // When every tile of the first field of view is drawn, in ms since the page's navigation began
      // (performance.now()): what bench/first-view reads; nothing in the page depends on it.
      v.addHandler("fully-loaded-change", ({ fullyLoaded }) => {
        const shell = element.current;
        if (fullyLoaded && shell && !shell.dataset.firstViewMs) shell.dataset.firstViewMs = String(Math.round(performance.now()));
      });
      // A refused tile (token revoked for another of the user's grants, or the laptop slept past its expiry): renew once in a while.
      v.addHandler("tile-load-failed", () => {
        if (Date.now() - lastFailureRenewal < 10_000) return;
        lastFailureRenewal = Date.now();
        void renew();
      });
      viewer.current = v;
      onViewer?.(v);
    }).catch(() => {
      if (!cancelled) setFailed(true);
    });
    return () => {
      cancelled = true;
      clearTimeout(renewal);
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
