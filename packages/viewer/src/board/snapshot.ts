import type OpenSeadragon from "openseadragon";
import type { BoardClient } from "./board-client";
import type { Notice } from "./board-state";
import { captureView } from "./viewport";

/** Keeps what the presenter's viewer shows with the agenda item of its slide; answers what to tell the presenter. */
export async function takeSnapshot(viewer: OpenSeadragon.Viewer, slide: { itemId: string; label: string }, save: BoardClient["saveSnapshot"]): Promise<Notice> {
  const image = await captureView(viewer);
  if (!image) return { text: "The view could not be captured; try again.", error: true };
  const saved = await save(slide.itemId, image);
  return "number" in saved ? { text: `Snapshot ${saved.number} kept with ${slide.label.split(" · ")[0]}.` } : { text: saved.error, error: true };
}
