import { WsiError } from "../errors";
import type { SlideLevel } from "../slide";

export interface DeepZoomLevel {
  level: number;
  width: number;
  height: number;
  cols: number;
  rows: number;
}

/** Deep Zoom geometry: level N is full size, each level below halves (rounding up), level 0 is 1×1. */
export function planDeepZoomLevels(width: number, height: number, tileSize: number): DeepZoomLevel[] {
  const maxLevel = Math.ceil(Math.log2(Math.max(width, height)));
  const levels: DeepZoomLevel[] = [];
  for (let level = maxLevel; level >= 0; level--) {
    const scale = 2 ** (maxLevel - level);
    const w = Math.ceil(width / scale);
    const h = Math.ceil(height / scale);
    levels.push({ level, width: w, height: h, cols: Math.ceil(w / tileSize), rows: Math.ceil(h / tileSize) });
  }
  return levels;
}

/** One pass over one source level that produces a run of Deep Zoom levels, largest first. */
export interface PyramidPass {
  sourceLevel: number;
  levels: DeepZoomLevel[];
}

/**
 * Chooses, for every Deep Zoom level, the source level it is made from: a source level whose
 * downsample is that level's power of two (within 2 px) starts a pass; the levels below it are
 * box-shrunk from it until the next such source level takes over.
 */
export function planPasses(levels: DeepZoomLevel[], sourceLevels: SlideLevel[]): PyramidPass[] {
  const full = levels[0]!;
  const byExponent = new Map<number, number>();
  for (const s of sourceLevels) {
    const exponent = Math.round(Math.log2(full.width / s.width));
    if (exponent < 0 || byExponent.has(exponent)) continue;
    const expectedW = Math.ceil(full.width / 2 ** exponent);
    const expectedH = Math.ceil(full.height / 2 ** exponent);
    if (Math.abs(expectedW - s.width) <= 2 && Math.abs(expectedH - s.height) <= 2) byExponent.set(exponent, s.index);
  }
  if (!byExponent.has(0)) throw new WsiError("CORRUPT", "the slide's first level does not match its own size.");
  const passes: PyramidPass[] = [];
  levels.forEach((level, exponent) => {
    const source = byExponent.get(exponent);
    if (source !== undefined) passes.push({ sourceLevel: source, levels: [level] });
    else passes[passes.length - 1]!.levels.push(level);
  });
  return passes;
}

export function renderDzi(options: { width: number; height: number; tileSize: number; overlap: number; format: string }): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" Format="${options.format}" Overlap="${options.overlap}" TileSize="${options.tileSize}">\n` +
    `  <Size Height="${options.height}" Width="${options.width}"/>\n` +
    `</Image>\n`
  );
}
