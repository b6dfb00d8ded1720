import type OpenSeadragon from "openseadragon";
import type { BoardView, Position } from "../types";

/** The viewer's view as the board shares it: centre rounded to a hundredth of an image pixel. */
export function readView(v: OpenSeadragon.Viewer, slideId: string): BoardView {
  const centre = v.viewport.viewportToImageCoordinates(v.viewport.getCenter(false));
  return {
    slideId,
    centre: [Math.round(centre.x * 100) / 100, Math.round(centre.y * 100) / 100],
    zoom: v.viewport.getZoom(false),
    rotation: v.viewport.getRotation(),
  };
}

export function applyView(v: OpenSeadragon.Viewer, view: BoardView) {
  v.viewport.setRotation(view.rotation, true);
  v.viewport.zoomTo(view.zoom, undefined, true);
  v.viewport.panTo(v.viewport.imageToViewportCoordinates(view.centre[0], view.centre[1]), true);
}

/** The image pixel under a pointer event, rounded to whole pixels. */
export function imagePixelAt(v: OpenSeadragon.Viewer, e: { clientX: number; clientY: number }): Position {
  const box = v.element.getBoundingClientRect();
  // A fresh OpenSeadragon Point without importing the library into this bundle.
  const pixel = v.viewport.getCenter(false);
  pixel.x = e.clientX - box.left;
  pixel.y = e.clientY - box.top;
  const at = v.viewport.viewerElementToImageCoordinates(pixel);
  return [Math.round(at.x), Math.round(at.y)];
}

/** The viewer's canvas as a JPEG, or null when the browser cannot encode it. */
export function captureView(v: OpenSeadragon.Viewer): Promise<Blob | null> {
  return new Promise((resolve) => v.drawer.canvas.toBlob(resolve, "image/jpeg", 0.85));
}
