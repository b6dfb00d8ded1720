"use client";

import { useEffect, useState } from "react";
import type OpenSeadragon from "openseadragon";
import type { Position } from "../types";

/** Closer than this on screen counts as the same click (a double-click sends two). */
const SAME_POINT_PX = 4;

export interface Projection {
  toScreen(p: Position): Position;
  /** The image pixel under a pointer, kept on the slide and rounded to a hundredth of a pixel. */
  toImage(event: { clientX: number; clientY: number }, over: Element): Position;
  samePoint(a: Position, b: Position): boolean;
}

/**
 * Image ↔ screen conversion on an open viewer, renewed on every drawn frame so shapes projected
 * with it stay on the tissue while it moves; null until the viewer shows an image.
 */
export function useViewerProjection(viewer: OpenSeadragon.Viewer | null): Projection | null {
  const [Point, setPoint] = useState<typeof OpenSeadragon.Point | null>(null);
  const [, setFrame] = useState(0);
  useEffect(() => {
    if (!viewer) return;
    let active = true;
    void import("openseadragon").then(({ default: OSD }) => {
      if (active) setPoint(() => OSD.Point);
    });
    const redraw = () => setFrame((f) => f + 1);
    viewer.addHandler("update-viewport", redraw);
    viewer.addHandler("open", redraw);
    return () => {
      active = false;
      viewer.removeHandler("update-viewport", redraw);
      viewer.removeHandler("open", redraw);
    };
  }, [viewer]);

  if (!viewer || !Point || viewer.world.getItemCount() === 0) return null;
  const toScreen = ([x, y]: Position): Position => {
    const p = viewer.viewport.imageToViewerElementCoordinates(new Point(x, y));
    return [p.x, p.y];
  };
  return {
    toScreen,
    toImage(event, over) {
      const box = over.getBoundingClientRect();
      const p = viewer.viewport.viewerElementToImageCoordinates(new Point(event.clientX - box.left, event.clientY - box.top));
      const size = viewer.world.getItemAt(0)!.getContentSize();
      const keep = (v: number, max: number) => Math.round(Math.min(Math.max(v, 0), max) * 100) / 100;
      return [keep(p.x, size.x), keep(p.y, size.y)];
    },
    samePoint(a, b) {
      const [sa, sb] = [toScreen(a), toScreen(b)];
      return Math.hypot(sa[0] - sb[0], sa[1] - sb[1]) < SAME_POINT_PX;
    },
  };
}
