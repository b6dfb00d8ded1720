import { rm } from "node:fs/promises";
import { encodeJpeg } from "../codec/jpeg";
import { PERIOD, type Stain, glassColour, renderTissue, tissueOutline } from "./tissue";
import { createTiledTiffWriter } from "./tiled-tiff-writer";

export { PERIOD, renderTissue, tissueOutline, type Stain } from "./tissue";
export { bigTiffDirectory, createTiledTiffWriter, type TiledTiffWriter } from "./tiled-tiff-writer";

export interface SyntheticSlideOptions {
  width: number;
  height: number;
  stain?: Stain;
  micronsPerPixel?: number;
  /** Another seed gives other fragments (the texture stays the same). */
  seed?: number;
  quality?: number;
}

const TILE = 256;
/** How far the outline may move between samples 32 px apart (its noise is ≥ 96 px): beyond it a tile is all tissue or all glass. */
const SURE = 0.04;

/**
 * Writes a demo slide that looks like a stained section (a one-level JPEG-tiled BigTIFF; the
 * tiler builds the pyramid). A 40 000 × 30 000 slide takes seconds: tiles inside the tissue are
 * one rendered periodic block, reused by offset; only tiles on a fragment's edge are blended and
 * encoded one by one.
 */
export async function writeSyntheticSlide(path: string, options: SyntheticSlideOptions): Promise<{ edgeTiles: number; tiles: number }> {
  const { width, height } = options;
  const stain = options.stain ?? "he";
  const quality = options.quality ?? 85;
  const outline = tissueOutline(width, height, options.seed ?? 1);
  const writer = await createTiledTiffWriter(path, { width, height, tileSize: TILE, micronsPerPixel: options.micronsPerPixel });
  const perRow = PERIOD / TILE;
  const block = new Map<number, { raw: Buffer; offset?: number; length?: number }>();
  const blockTile = (col: number, row: number) => {
    const key = (row % perRow) * perRow + (col % perRow);
    let entry = block.get(key);
    if (!entry) {
      entry = { raw: renderTissue((col % perRow) * TILE, (row % perRow) * TILE, TILE, TILE, stain) };
      block.set(key, entry);
    }
    return entry;
  };
  const glass = glassColour(stain);
  const glassJpeg = await encodeJpeg({ width: TILE, height: TILE, data: fill(glass) }, quality);
  let glassOffset: number | undefined;
  const across = Math.ceil(width / TILE);
  const down = Math.ceil(height / TILE);
  let edgeTiles = 0;
  try {
    for (let row = 0; row < down; row++) {
      for (let col = 0; col < across; col++) {
        const index = row * across + col;
        const [low, high] = outlineRange(outline, col * TILE, row * TILE);
        if (high < -SURE) {
          glassOffset ??= await writer.append(glassJpeg);
          writer.setTile(index, glassOffset, glassJpeg.length);
          continue;
        }
        const tissue = blockTile(col, row);
        if (low > SURE) {
          if (tissue.offset === undefined) {
            const jpeg = await encodeJpeg({ width: TILE, height: TILE, data: tissue.raw }, quality);
            tissue.offset = await writer.append(jpeg);
            tissue.length = jpeg.length;
          }
          writer.setTile(index, tissue.offset, tissue.length!);
          continue;
        }
        // A fragment's edge: blend tissue into glass over a few pixels (outline sampled every
        // 16 px and interpolated: it changes slowly at that scale).
        edgeTiles++;
        const data = Buffer.from(tissue.raw);
        const samples = sampleOutline(outline, col * TILE, row * TILE, 16);
        for (let y = 0; y < TILE; y++) {
          for (let x = 0; x < TILE; x++) {
            const t = Math.min(1, Math.max(0, interpolate(samples, x, y, 16) / 0.01 + 0.5));
            if (t === 1) continue;
            const at = (y * TILE + x) * 3;
            for (let c = 0; c < 3; c++) data[at + c] = Math.round(glass[c]! + (data[at + c]! - glass[c]!) * t);
          }
        }
        const jpeg = await encodeJpeg({ width: TILE, height: TILE, data }, quality);
        writer.setTile(index, await writer.append(jpeg), jpeg.length);
      }
    }
    await writer.finish();
  } catch (error) {
    await writer.abort();
    await rm(path, { force: true });
    throw error;
  }
  return { edgeTiles, tiles: across * down };
}

function fill(rgb: [number, number, number]): Buffer {
  const data = Buffer.allocUnsafe(TILE * TILE * 3);
  for (let i = 0; i < data.length; i += 3) data.set(rgb, i);
  return data;
}

/** The outline at every `step` px of a tile, edges included: (TILE / step + 1)² values. */
function sampleOutline(outline: (x: number, y: number) => number, x0: number, y0: number, step: number): Float32Array {
  const n = TILE / step + 1;
  const values = new Float32Array(n * n);
  for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) values[j * n + i] = outline(x0 + i * step, y0 + j * step);
  return values;
}

function interpolate(samples: Float32Array, x: number, y: number, step: number): number {
  const n = TILE / step + 1;
  const i = Math.floor(x / step);
  const j = Math.floor(y / step);
  const tx = x / step - i;
  const ty = y / step - j;
  const a = samples[j * n + i]! + (samples[j * n + i + 1]! - samples[j * n + i]!) * tx;
  const b = samples[(j + 1) * n + i]! + (samples[(j + 1) * n + i + 1]! - samples[(j + 1) * n + i]!) * tx;
  return a + (b - a) * ty;
}

/** The outline's lowest and highest value over a tile, sampled every 32 px (edges included). */
function outlineRange(outline: (x: number, y: number) => number, x0: number, y0: number): [number, number] {
  const samples = sampleOutline(outline, x0, y0, 32);
  let low = Infinity;
  let high = -Infinity;
  for (const v of samples) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return [low, high];
}
