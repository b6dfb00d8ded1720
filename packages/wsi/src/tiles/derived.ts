import { encodeJpeg } from "../codec/jpeg";
import { WsiError, toWsiError } from "../errors";
import type { Slide } from "../slide";
import { RowPairShrinker, decodeBands, feedSourceLevel } from "../deepzoom/feed";
import { type EmitTile, LevelWriter } from "../deepzoom/level-writer";
import { type DeepZoomLevel, type PyramidPass, planDeepZoomLevels, planPasses } from "../deepzoom/plan";
import {
  type PyramidLevelLayout,
  encodeBigTiffHeader,
  encodePyramidDirectories,
  encodePyramidPrologue,
  pyramidPrologueSize,
  pyramidTileCount,
} from "../tiff/pyramid-writer";
import { padImage } from "./pixels";
import { checkQuality, viewTileSize } from "./view";

export interface DerivedPyramidOptions {
  /** JPEG quality, 1–100; default 80. */
  quality?: number;
  signal?: AbortSignal;
  /** Fraction done, 0–1, called now and then. */
  onProgress?: (fraction: number) => void;
  /**
   * For a destination that can overwrite its first 16 bytes once everything is written (a file:
   * a positioned write; an S3 multipart upload: part 1 uploaded last). Then the levels are
   * computed once: tiles, then directories, and this is called last with the real header.
   */
  patchHeader?: (header: Uint8Array) => Promise<void>;
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
 * writes them (libjpeg-turbo is deterministic; a mismatch is reported, not written) — unless
 * the caller can patch the header (`patchHeader`): then once, with the directories at the end.
 * A level whose side has stopped shrinking (1 px) cannot be a TIFF pyramid level; the few
 * such tiny levels are left to the view, which computes them from the smallest level here.
 */
export async function writeDerivedPyramid(
  slide: Slide,
  write: (chunk: Uint8Array) => Promise<void>,
  options: DerivedPyramidOptions = {},
): Promise<DerivedPyramidResult> {
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
  const rounds = options.patchHeader ? 1 : 2;
  let done = 0;
  let lastReport = 0;
  const progress = () => {
    done++;
    const now = Date.now();
    if (options.onProgress && (now - lastReport > 100 || done === rounds * tiles)) {
      lastReport = now;
      options.onProgress(done / (rounds * tiles));
    }
  };
  const stream = (onTile: OnTile) =>
    streamLevels(slide, passes, new Map(included.map((l, i) => [l, i])), { tileSize, quality, signal: options.signal }, onTile);
  const out = chunkedWriter(write);
  const result = () => ({ levels: included.length, bytes: out.written, tiles });

  try {
    if (options.patchHeader) {
      // One pass: tiles, then the directories; the header, written first as a placeholder, is patched last.
      await out.push(encodeBigTiffHeader(0));
      await stream(async (level, index, bytes) => {
        offsets[level]![index] = out.position;
        counts[level]![index] = bytes.length;
        await out.push(bytes);
        progress();
      });
      const directories = out.position;
      await out.push(encodePyramidDirectories(layouts, offsets, counts, directories));
      await out.flush();
      await options.patchHeader(encodeBigTiffHeader(directories));
      return result();
    }
    let position = pyramidPrologueSize(layouts);
    await stream(async (level, index, bytes) => {
      offsets[level]![index] = position;
      counts[level]![index] = bytes.length;
      position += bytes.length;
      progress();
    });
    await out.push(encodePyramidPrologue(layouts, offsets, counts));
    await stream(async (level, index, bytes) => {
      if (offsets[level]![index] !== out.position || counts[level]![index] !== bytes.length) {
        throw new WsiError("IO_ERROR", `${name}: a derived tile came out different on the second pass; nothing more was written.`);
      }
      await out.push(bytes);
      progress();
    });
    await out.flush();
    return result();
  } catch (error) {
    throw toWsiError(error, "CORRUPT", name);
  }
}

/** Gathers chunks up to ~1 MiB before handing them to `write`; `position` counts what was pushed. */
function chunkedWriter(write: (chunk: Uint8Array) => Promise<void>) {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const state = {
    written: 0,
    get position() {
      return state.written + pendingBytes;
    },
    async push(bytes: Uint8Array) {
      pending.push(bytes);
      pendingBytes += bytes.length;
      if (pendingBytes >= chunkBytes) await state.flush();
    },
    async flush() {
      if (pendingBytes === 0) return;
      const chunk = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      await write(chunk);
      state.written += chunk.length;
    },
  };
  return state;
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
