import type { RgbImage } from "../image";
import type { Slide } from "../slide";
import { type BandTile, checkAborted, decodeBands } from "./feed";
import type { TileRect } from "./level-writer";
import type { DeepZoomLevel } from "./plan";

/** A run of tile rows of one Deep Zoom level made from one source level of the same size. */
export interface SectionJob {
  sourceLevel: number;
  level: DeepZoomLevel;
  rowStart: number;
  rowEnd: number;
}

/**
 * Splits a pass that makes one Deep Zoom level into runs of tile rows, so several threads can
 * each read, cut and encode their own part. Each boundary costs one source band decoded twice.
 */
export function splitSections(sourceLevel: number, level: DeepZoomLevel, sections: number): SectionJob[] {
  const count = Math.max(1, Math.min(sections, level.rows));
  return Array.from({ length: count }, (_, i) => ({
    sourceLevel,
    level,
    rowStart: Math.round((i * level.rows) / count),
    rowEnd: Math.round(((i + 1) * level.rows) / count),
  }));
}

/**
 * Cuts the tiles of rows rowStart … rowEnd − 1 of a Deep Zoom level from a source level of its
 * size (the same pixels feedSourceLevel and LevelWriter give: a source a pixel short has its
 * last column and row repeated, a wider one is cut). One tile row's pixels are held at a time,
 * in one reused buffer: `emit` must be done with a tile's pixels when its promise settles.
 */
export async function renderSection(
  slide: Slide,
  job: SectionJob,
  tileSize: number,
  overlap: number,
  emit: (tile: TileRect, pixels: RgbImage) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const { level } = job;
  const source = slide.metadata.levels[job.sourceLevel]!;
  const readBand = decodeBands(slide, job.sourceLevel);
  const across = Math.ceil(source.width / source.tileWidth);
  const copyWidth = Math.min(source.width, level.width);
  const lastSourceRow = Math.min(source.height, level.height) - 1;
  const rowBytes = level.width * 3;
  // +1 row of slack: a tile's strided view must reach stride × height bytes (the codec checks).
  const buffer = Buffer.allocUnsafe((Math.min(level.height, tileSize + 2 * overlap) + 1) * rowBytes);
  // decodeBands alternates two buffer sets by band parity: hold at most one band of each parity.
  const held = new Map<number, BandTile[]>();
  const bandOf = async (band: number) => {
    const ready = held.get(band);
    if (ready) return ready;
    for (const key of held.keys()) if (key % 2 === band % 2) held.delete(key);
    const tiles = await readBand(band);
    held.set(band, tiles);
    return tiles;
  };

  for (let row = job.rowStart; row < job.rowEnd; row++) {
    checkAborted(signal);
    const y0 = Math.max(0, row * tileSize - overlap);
    const y1 = Math.min(level.height, (row + 1) * tileSize + overlap);
    for (let y = y0; y < y1; y++) {
      const sourceY = Math.min(y, lastSourceRow);
      const tiles = await bandOf(Math.floor(sourceY / source.tileHeight));
      const inTile = sourceY % source.tileHeight;
      const at = (y - y0) * rowBytes;
      let x = 0;
      for (let col = 0; col < across && x < copyWidth; col++) {
        const tile = tiles[col]!.image;
        const take = Math.min(source.tileWidth, copyWidth - x);
        const from = inTile * tile.width * 3;
        tile.data.copy(buffer, at + x * 3, from, from + take * 3);
        x += take;
      }
      for (; x < level.width; x++) buffer.copy(buffer, at + x * 3, at + (copyWidth - 1) * 3, at + copyWidth * 3);
    }
    const height = y1 - y0;
    const pending: Promise<void>[] = [];
    for (let col = 0; col < level.cols; col++) {
      const x = Math.max(0, col * tileSize - overlap);
      const width = Math.min(level.width, (col + 1) * tileSize + overlap) - x;
      pending.push(emit({ level, col, row, x, y: y0, width, height }, { width, height, stride: level.width, data: buffer.subarray(x * 3) }));
    }
    await Promise.all(pending);
  }
}
