import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeJpeg } from "../codec/jpeg";
import { buildDeepZoom } from "../deepzoom/build";
import { createFolderSink } from "../deepzoom/sink";
import type { Slide } from "../slide";
import type { DeepZoomView } from "../tiles/view";
import { psnr } from "./pixels";

export interface DeepZoomMatch {
  dziEqual: boolean;
  passthrough: number;
  computed: number;
  /** Computed tiles byte-identical to the builder's. */
  identical: number;
  /** Passthrough tiles that differ from the builder's bytes (should be none). */
  passthroughDiffering: string[];
  /** Lowest PSNR of a computed tile against the builder's, and where. */
  minPsnr: number;
  worst: string;
  tilesPassedThrough: number;
}

/**
 * Builds the same pyramid with buildDeepZoom (the view's tile size, overlap 0, same quality)
 * and compares every tile of the view with it: passthrough tiles byte for byte, computed tiles by PSNR.
 */
export async function matchDeepZoomBuilder(slide: Slide, view: DeepZoomView, quality: number): Promise<DeepZoomMatch> {
  const out = await mkdtemp(join(tmpdir(), "wsi-dz-match-"));
  try {
    const built = await buildDeepZoom(slide, createFolderSink(out), { tileSize: view.tileSize, overlap: 0, quality, name: "b" });
    const match: DeepZoomMatch = {
      dziEqual: view.dzi === built.dzi,
      passthrough: 0,
      computed: 0,
      identical: 0,
      passthroughDiffering: [],
      minPsnr: Infinity,
      worst: "",
      tilesPassedThrough: built.tilesPassedThrough,
    };
    for (let level = 0; level <= view.maxLevel; level++) {
      const scale = 2 ** (view.maxLevel - level);
      const cols = Math.ceil(Math.ceil(view.width / scale) / view.tileSize);
      const rows = Math.ceil(Math.ceil(view.height / scale) / view.tileSize);
      for (let row = 0; row < rows; row++) {
        for (let col = 0; col < cols; col++) {
          const where = `${level}/${col}_${row}`;
          const tile = await view.getTile(level, col, row);
          const expected = await readFile(join(out, `b_files/${level}/${col}_${row}.jpeg`));
          const same = Buffer.compare(Buffer.from(tile.bytes), expected) === 0;
          if (tile.passthrough) {
            match.passthrough++;
            if (!same) match.passthroughDiffering.push(where);
            continue;
          }
          match.computed++;
          if (same) match.identical++;
          const score = same ? Infinity : psnr(await decodeJpeg(tile.bytes), await decodeJpeg(expected));
          if (score < match.minPsnr || !match.worst) {
            match.minPsnr = Math.min(score, match.minPsnr);
            match.worst = where;
          }
        }
      }
    }
    return match;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
