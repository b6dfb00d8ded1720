import { encodeJpeg } from "../codec/jpeg";
import { WsiError, toWsiError } from "../errors";
import type { Slide } from "../slide";
import { RowPairShrinker, decodeBands, feedSourceLevel } from "../deepzoom/feed";
import { type EmitTile, LevelWriter } from "../deepzoom/level-writer";
import { type DeepZoomLevel, type PyramidPass, planDeepZoomLevels, planPasses } from "../deepzoom/plan";
import { type PyramidLevelLayout, encodePyramidPrologue, pyramidPrologueSize, pyramidTileCount } from "../tiff/pyramid-writer";
import { padImage } from "./pixels";
import { checkQuality, viewTileSize } from "./view";

export interface DerivedPyramidOptions {
  /** JPEG quality, 1–100; default 80. */
  quality?: number;
  signal?: AbortSignal;
  /** Fraction done, 0–1, called now and then. */
  onProgress?: (fraction: number) => void;
}

export interface DerivedPyramidResult {
  /** Levels written; 0 (and nothing written) when the source already has every level. */
  levels: number;
  bytes: number;
  tiles: number;
}

/** Chunks handed to `write` are gathered up to this size: fewer, larger writes or upload parts. */
const chunkBytes = 1024 * 1024;
/** Tiles being encoded at once, in order of emission. */
const inFlight = 64;

/**
 * The Deep Zoom levels a slide lacks, one tiled JPEG BigTIFF, streamed to `write` in order
 * with bounded memory (a band of source tiles and a tile row per level, never a level).
 *
 * The directories come first so that readers find them with one small range read, but they
 * hold every tile's offset, which depends on the sizes of JPEG tiles not yet encoded. So the
 * levels are computed twice: the first pass only measures the encoded tiles, the second
 * writes them (libjpeg-turbo is deterministic; a mismatch is reported, not written).
 * A level whose side has stopped shrinking (1 px) cannot be a TIFF pyramid level; the few
 * such tiny levels are left to the view, which computes them from the smallest level here.
 */
export async function writeDerivedPyramid(slide: Slide, write: (chunk: Uint8Array) => Promise<void>, options: DerivedPyramidOptions = {}): Promise<DerivedPyramidResult> {
  const quality = checkQuality(options.quality ?? 80);
  const tileSize = viewTileSize(slide);
  const { name } = slide.metadata;
  const passes = planPasses(planDeepZoomLevels(slide.metadata.width, slide.metadata.height, tileSize), slide.metadata.levels);
  const included: DeepZoomLevel[] = [];
  for (const level of passes.flatMap((pass) => pass.levels.slice(1))) {
    const last = included.at(-1);
    if (!last || (level.width < last.width && level.height < last.height)) included.push(level);
  }
  if (included.length === 0) return { levels: 0, bytes: 0, tiles: 0 };
  const layouts: PyramidLevelLayout[] = included.map((l) => ({ width: l.width, height: l.height, tileSize, subsampling: quality >= 90 ? 1 : 2 }));
  const counts = layouts.map((l) => new Uint32Array(pyramidTileCount(l)));
  const offsets = layouts.map((l) => new Float64Array(pyramidTileCount(l)));
  const tiles = counts.reduce((sum, c) => sum + c.length, 0);
  const prologue = pyramidPrologueSize(layouts);
  let done = 0;
  let lastReport = 0;
  const progress = () => {
    done++;
    const now = Date.now();
    if (options.onProgress && (now - lastReport > 100 || done === 2 * tiles)) {
      lastReport = now;
      options.onProgress(done / (2 * tiles));
    }
  };
  const stream = (onTile: OnTile) => streamLevels(slide, passes, new Map(included.map((l, i) => [l, i])), { tileSize, quality, signal: options.signal }, onTile);

  try {
    let position = prologue;
    await stream(async (level, index, bytes) => {
      offsets[level]![index] = position;
      counts[level]![index] = bytes.length;
      position += bytes.length;
      progress();
    });

    let pending: Uint8Array[] = [encodePyramidPrologue(layouts, offsets, counts)];
    let pendingBytes = prologue;
    let written = 0;
    const flush = async () => {
      if (pendingBytes === 0) return;
      const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      await write(chunk);
      written += chunk.length;
    };
    await stream(async (level, index, bytes) => {
      if (offsets[level]![index] !== written + pendingBytes || counts[level]![index] !== bytes.length) {
        throw new WsiError("IO_ERROR", `${name}: a derived tile came out different on the second pass; nothing more was written.`);
      }
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= chunkBytes) await flush();
      progress();
    });
    await flush();
    return { levels: included.length, bytes: written, tiles };
  } catch (error) {
    throw toWsiError(error, "CORRUPT", name);
  }
}

type OnTile = (level: number, index: number, bytes: Uint8Array) => Promise<void>;

/**
 * Streams each pass (a source level and the missing levels below it) through a chain of
 * LevelWriters; tiles of the wanted levels are encoded on the thread pool and handed to
 * onTile strictly in the order they were cut, so both passes see the same sequence.
 */
async function streamLevels(
  slide: Slide,
  passes: PyramidPass[],
  wanted: Map<DeepZoomLevel, number>,
  o: { tileSize: number; quality: number; signal?: AbortSignal },
  onTile: OnTile,
): Promise<void> {
  for (const pass of passes) {
    const last = pass.levels.findLastIndex((l) => wanted.has(l));
    if (last < 1) continue;
    const queue: { level: number; index: number; bytes: Promise<Uint8Array> }[] = [];
    const emit: EmitTile = (tile, pixels) => {
      const level = wanted.get(tile.level);
      if (level === undefined) return;
      const bytes = encodeJpeg(padImage(pixels, o.tileSize), o.quality);
      bytes.catch(() => {}); // awaited in order below; an early failure must not go unhandled
      queue.push({ level, index: tile.row * tile.level.cols + tile.col, bytes });
    };
    const drain = async (limit: number) => {
      while (queue.length > limit) {
        const head = queue.shift()!;
        await onTile(head.level, head.index, await head.bytes);
      }
    };
    // The source level's own tiles are not wanted: its rows are only halved into the next level.
    let child: LevelWriter | undefined;
    for (const level of pass.levels.slice(1, last + 1).reverse()) child = new LevelWriter(level, o.tileSize, 0, emit, child);
    await feedSourceLevel({
      source: slide.metadata.levels[pass.sourceLevel]!,
      root: pass.levels[0]!,
      top: new RowPairShrinker(pass.levels[0]!, child!),
      readBand: decodeBands(slide, pass.sourceLevel),
      afterBand: () => drain(inFlight),
      signal: o.signal,
    });
    await drain(0);
  }
}
