import { open, rm } from "node:fs/promises";
import { encodeJpeg } from "../codec/jpeg";
import { WsiError, toWsiError } from "../errors";
import { type Slide, openSlideAt } from "../slide";
import { type PyramidLevelLayout, encodeBigTiffHeader, encodePyramidDirectories, pyramidTileCount } from "../tiff/pyramid-writer";
import { writeDerivedPyramid } from "./derived";
import { padImage } from "./pixels";
import { checkQuality } from "./view";

export interface ServingTiffOptions {
  /** JPEG quality of every tile, 1–100; default 85. */
  quality?: number;
  signal?: AbortSignal;
  /** Fraction done, 0–1, called now and then. */
  onProgress?: (fraction: number) => void;
}

export interface ServingTiffResult {
  levels: number;
  tiles: number;
  bytes: number;
}

/** Level-0 tiles being read and encoded at once (OpenSlide's read_region runs on the thread pool). */
const inFlight = 4;

/**
 * Rewrites a slide only a path reader opens (OpenSlide: MRXS, Leica SCN, Philips TIFF, …) as one
 * tiled JPEG BigTIFF the native reader serves by byte ranges from any store: level 0 as the
 * slide's tiles give it, then every Deep Zoom level below it (so no derived pyramid is needed).
 * Label, macro and thumbnail are not copied: the caller stores them by the lab's policy.
 *
 * Level 0 is read once (the expensive part: read_region) into a work file beside `path`; the
 * levels below are built from that file by the derived-pyramid writer, and both are then joined.
 */
export async function writeServingTiff(slide: Slide, path: string, options: ServingTiffOptions = {}): Promise<ServingTiffResult> {
  const quality = checkQuality(options.quality ?? 85);
  const { name } = slide.metadata;
  const level0 = slide.metadata.levels[0]!;
  if (level0.tileWidth !== level0.tileHeight)
    throw new WsiError(
      "UNSUPPORTED_FORMAT",
      `${name}: its tiles are not square (${level0.tileWidth} × ${level0.tileHeight}); it cannot be rewritten for serving.`,
    );
  const tileSize = level0.tileWidth;
  const report = (from: number, to: number) => (fraction: number) => options.onProgress?.(from + (to - from) * fraction);
  const firstPath = `${path}.level0.partial`;
  const lowerPath = `${path}.lower.partial`;
  try {
    const first = await writeLevelZero(slide, firstPath, { tileSize, quality, signal: options.signal, onProgress: report(0, 0.8) });
    const top = await openSlideAt(firstPath);
    try {
      const lower = await open(lowerPath, "w");
      try {
        await writeDerivedPyramid(top, async (chunk) => void (await lower.write(chunk)), {
          quality,
          signal: options.signal,
          onProgress: report(0.8, 0.95),
          patchHeader: async (header) => void (await lower.write(header, 0, header.length, 0)),
        });
      } finally {
        await lower.close();
      }
    } finally {
      await top.close();
    }
    const result = await joinLevels(firstPath, first, lowerPath, path, quality);
    options.onProgress?.(1);
    return result;
  } catch (error) {
    await rm(path, { force: true });
    throw toWsiError(error, "CORRUPT", name);
  } finally {
    await rm(firstPath, { force: true });
    await rm(lowerPath, { force: true });
  }
}

interface LevelZeroFile {
  layout: PyramidLevelLayout;
  offsets: Float64Array;
  counts: Uint32Array;
  /** Where the tiles end (the directory follows). */
  end: number;
}

/** Level 0 alone as a BigTIFF: placeholder header, tiles in row order, directory, real header. */
async function writeLevelZero(
  slide: Slide,
  path: string,
  o: { tileSize: number; quality: number; signal?: AbortSignal; onProgress: (fraction: number) => void },
): Promise<LevelZeroFile> {
  const level = slide.metadata.levels[0]!;
  const layout: PyramidLevelLayout = { width: level.width, height: level.height, tileSize: o.tileSize, subsampling: o.quality >= 90 ? 1 : 2 };
  const cols = Math.ceil(level.width / o.tileSize);
  const count = pyramidTileCount(layout);
  const offsets = new Float64Array(count);
  const counts = new Uint32Array(count);
  const file = await open(path, "w");
  try {
    let position = 16;
    await file.write(encodeBigTiffHeader(0), 0, 16, 0);
    const encodeTile = async (index: number) => encodeJpeg(padImage(await slide.readTile(0, index % cols, Math.floor(index / cols)), o.tileSize), o.quality);
    const queue: Promise<Buffer>[] = [];
    let next = 0;
    for (let index = 0; index < count; index++) {
      while (next < count && queue.length < inFlight) {
        const pending = encodeTile(next++);
        pending.catch(() => {}); // awaited in order below
        queue.push(pending);
      }
      if (o.signal?.aborted) throw new WsiError("IO_ERROR", `${slide.metadata.name}: rewriting for serving was stopped.`, { cause: o.signal.reason });
      const bytes = await queue.shift()!;
      offsets[index] = position;
      counts[index] = bytes.length;
      await file.write(bytes, 0, bytes.length, position);
      position += bytes.length;
      if (index % 16 === 15 || index === count - 1) o.onProgress((index + 1) / count);
    }
    await file.write(encodePyramidDirectories([layout], [offsets], [counts], position), 0, undefined, position);
    await file.write(encodeBigTiffHeader(position), 0, 16, 0);
    return { layout, offsets, counts, end: position };
  } finally {
    await file.close();
  }
}

/** One BigTIFF: level 0's tiles copied as they lie, the lower levels' tiles after them, every directory last. */
async function joinLevels(firstPath: string, first: LevelZeroFile, lowerPath: string, path: string, quality: number): Promise<ServingTiffResult> {
  const lower = await openSlideAt(lowerPath).catch(() => undefined); // none: level 0 is the whole pyramid
  const layouts: PyramidLevelLayout[] = [first.layout];
  const offsets: ArrayLike<number>[] = [first.offsets];
  const counts: ArrayLike<number>[] = [first.counts];
  const out = await open(path, "w");
  try {
    const source = await open(firstPath, "r");
    try {
      const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
      for (let at = 0; at < first.end; ) {
        const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, first.end - at), at);
        if (bytesRead === 0) throw new WsiError("IO_ERROR", `${firstPath}: ended early.`);
        await out.write(buffer, 0, bytesRead, at);
        at += bytesRead;
      }
    } finally {
      await source.close();
    }
    let position = first.end;
    for (const level of lower?.metadata.levels ?? []) {
      const layout: PyramidLevelLayout = { width: level.width, height: level.height, tileSize: level.tileWidth, subsampling: quality >= 90 ? 1 : 2 };
      const cols = Math.ceil(level.width / level.tileWidth);
      const levelOffsets = new Float64Array(pyramidTileCount(layout));
      const levelCounts = new Uint32Array(levelOffsets.length);
      for (let index = 0; index < levelOffsets.length; index++) {
        const raw = await lower!.readRawTile(level.index, index % cols, Math.floor(index / cols));
        levelOffsets[index] = position;
        levelCounts[index] = raw.bytes.length;
        await out.write(raw.bytes, 0, raw.bytes.length, position);
        position += raw.bytes.length;
      }
      layouts.push(layout);
      offsets.push(levelOffsets);
      counts.push(levelCounts);
    }
    const directories = encodePyramidDirectories(layouts, offsets, counts, position);
    await out.write(directories, 0, directories.length, position);
    await out.write(encodeBigTiffHeader(position), 0, 16, 0);
    return { levels: layouts.length, tiles: counts.reduce((sum, c) => sum + c.length, 0), bytes: position + directories.length };
  } finally {
    await out.close();
    await lower?.close();
  }
}
