import type { Slide } from "@pathx/wsi";

/**
 * The same slide as if it stored only some of its levels (by index): a one-level slide, or an
 * Aperio-like one (every fourth size), made from the benchmark's full pyramid without
 * rewriting a gigabyte. The engine sees it only through the public Slide interface.
 */
export function withLevels(slide: Slide, keep: number[]): Slide {
  const pick = (level: number) => {
    const index = keep[level];
    if (index === undefined) throw new Error(`level ${level} is not kept`);
    return index;
  };
  return {
    ...slide,
    metadata: { ...slide.metadata, levels: keep.map((index, at) => ({ ...slide.metadata.levels[index]!, index: at })) },
    readRawTile: (level, col, row) => slide.readRawTile(pick(level), col, row),
    readTile: (level, col, row) => slide.readTile(pick(level), col, row),
    decodeTile: (level, col, row, into) => slide.decodeTile(pick(level), col, row, into),
  };
}

/** "0" → [0]; "0,2,4" → [0, 2, 4]; "all" → every level of the slide. */
export function parseLevels(spec: string, count: number): number[] {
  if (spec === "all") return [...Array(count).keys()];
  const levels = spec
    .split(",")
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0 && n < count);
  if (levels.length === 0 || levels[0] !== 0) throw new Error(`levels "${spec}": give level indexes starting with 0, e.g. 0 or 0,2,4`);
  return levels;
}
