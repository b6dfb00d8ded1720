import { decodeJpeg, encodeJpeg } from "../codec/jpeg";
import { WsiError, toWsiError } from "../errors";
import { type RgbImage, cropImage } from "../image";
import type { Slide } from "../slide";
import { type EmitTile, LevelWriter, type TileRect } from "./level-writer";
import { type DeepZoomLevel, type PyramidPass, planDeepZoomLevels, planPasses, renderDzi } from "./plan";
import type { TileSink } from "./sink";
import { type BandTile, checkAborted, decodeBands, feedSourceLevel } from "./feed";
import type { ThreadRunner } from "./tile-threads";

export interface DeepZoomOptions {
  /** Tile edge in pixels, or "source" for the slide's own tile size. Default 254. */
  tileSize?: number | "source";
  /** Pixels repeated on each side of a tile. Default 1. */
  overlap?: number;
  /** JPEG quality 1–100. Default 75. */
  quality?: number;
  format?: "jpeg" | "png";
  /** Copy source JPEG tiles unchanged where the geometry allows it. Default true. */
  passthrough?: boolean;
  /** Name of the pyramid (`<name>.dzi`); default the slide's file name without extension. */
  name?: string;
  /** Tiles being encoded or written at once; bounds memory. Default 64. */
  inFlight?: number;
  /**
   * Worker threads besides this one that each open the slide at `slidePath` and decode, cut and
   * encode their own share of the levels (runs of tile rows; this thread also writes the tiles),
   * through `run` (`onThreads` of `@pathx/wsi/tile-threads`: kept out of this module so that a
   * bundled server, which never tiles on threads, does not pull the worker in). Unset: one pass
   * after another on this thread, codecs on libuv's pool.
   */
  threads?: { workers: number; slidePath: string; run: ThreadRunner };
  onProgress?: (progress: DeepZoomProgress) => void;
  signal?: AbortSignal;
}

export interface DeepZoomProgress {
  tilesWritten: number;
  tilesTotal: number;
}

export interface DeepZoomResult {
  name: string;
  width: number;
  height: number;
  tileSize: number;
  overlap: number;
  format: "jpeg" | "png";
  levels: number;
  tilesWritten: number;
  tilesPassedThrough: number;
  dzi: string;
}

/** Promises in flight, with a cap: the pyramid streams instead of piling tiles up in memory. */
class InFlight {
  private readonly running = new Set<Promise<void>>();
  private failure: unknown;
  add(task: Promise<void>): void {
    const tracked: Promise<void> = task.then(
      () => void this.running.delete(tracked),
      (error: unknown) => {
        this.failure ??= error;
        this.running.delete(tracked);
      },
    );
    this.running.add(tracked);
  }
  async waitBelow(limit: number): Promise<void> {
    while (this.running.size > limit) await Promise.race(this.running);
    if (this.failure) throw this.failure;
  }
}

export function resolveDeepZoomOptions(slide: Slide, options: DeepZoomOptions) {
  const base = slide.metadata.levels[0]!;
  const tileSize = options.tileSize === "source" ? base.tileWidth : (options.tileSize ?? 254);
  const overlap = options.overlap ?? 1;
  const quality = options.quality ?? 75;
  const format = options.format ?? "jpeg";
  if (options.tileSize === "source" && base.tileWidth !== base.tileHeight) {
    throw new WsiError("INVALID_OPTIONS", `the slide's tiles are ${base.tileWidth} × ${base.tileHeight}, not square; give --tile-size as a number.`);
  }
  if (!Number.isInteger(tileSize) || tileSize < 1 || tileSize > 8192)
    throw new WsiError("INVALID_OPTIONS", `tile size must be a whole number from 1 to 8192 (got ${tileSize}).`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap > tileSize / 2)
    throw new WsiError("INVALID_OPTIONS", `overlap must be a whole number from 0 to half the tile size (got ${overlap}).`);
  if (!Number.isInteger(quality) || quality < 1 || quality > 100)
    throw new WsiError("INVALID_OPTIONS", `quality must be a whole number from 1 to 100 (got ${quality}).`);
  const threads = options.threads;
  if (threads && (!Number.isInteger(threads.workers) || threads.workers < 0 || threads.workers > 64))
    throw new WsiError("INVALID_OPTIONS", `threads must be a whole number from 0 to 64 (got ${threads.workers}).`);
  if (format !== "jpeg" && format !== "png") throw new WsiError("INVALID_OPTIONS", `format must be jpeg or png (got ${String(format)}).`);
  const name = options.name ?? slide.metadata.name.replace(/\.[^.]*$/, "");
  return { tileSize, overlap, quality, format, name, passthrough: options.passthrough ?? true, inFlight: options.inFlight ?? 64 };
}

export type ResolvedOptions = ReturnType<typeof resolveDeepZoomOptions>;

export function createEncoder(o: Pick<ResolvedOptions, "format" | "quality">): Encode {
  return (image) => {
    if (o.format === "jpeg") return encodeJpeg(image, o.quality);
    const packed = image.stride && image.stride !== image.width ? cropImage(image, 0, 0, image.width, image.height) : image;
    // sharp (libvips) only for PNG: loading it costs ~100 ms of start-up that JPEG runs skip.
    return import("sharp").then(({ default: sharp }) =>
      sharp(packed.data, { raw: { width: image.width, height: image.height, channels: 3 } })
        .png({ compressionLevel: 6 })
        .toBuffer(),
    );
  };
}

/**
 * Builds a Deep Zoom pyramid from a slide into a sink. Each pass streams one source level in
 * bands of source tiles; tiles are encoded on libuv's thread pool (both cores) while the
 * JavaScript thread assembles the next rows. Where a source level matches a Deep Zoom level and
 * the geometry is the source's own (overlap 0, same tile size, JPEG), its tiles are copied as they are.
 */
export async function buildDeepZoom(slide: Slide, sink: TileSink, options: DeepZoomOptions = {}): Promise<DeepZoomResult> {
  const o = resolveDeepZoomOptions(slide, options);
  const threads = options.threads;
  const { width, height } = slide.metadata;
  const levels = planDeepZoomLevels(width, height, o.tileSize);
  const passes = planPasses(levels, slide.metadata.levels);
  const tilesTotal = levels.reduce((sum, l) => sum + l.cols * l.rows, 0);
  const dzi = renderDzi({ width, height, tileSize: o.tileSize, overlap: o.overlap, format: o.format });
  const inFlight = new InFlight();
  let tilesWritten = 0;
  let tilesPassedThrough = 0;
  let lastReport = 0;
  const report = (force = false) => {
    const now = Date.now();
    if (options.onProgress && (force || now - lastReport > 100)) {
      lastReport = now;
      options.onProgress({ tilesWritten, tilesTotal });
    }
  };
  const write = (level: number, col: number, row: number, data: Promise<Uint8Array> | Uint8Array) => {
    inFlight.add(
      Promise.resolve(data).then(async (bytes) => {
        await sink.writeTile(level, col, row, bytes);
        tilesWritten++;
        report();
      }),
    );
  };
  const encode = createEncoder(o);

  await sink.begin({ name: o.name, format: o.format, width, height, tileSize: o.tileSize, overlap: o.overlap, levels: levels.map((l) => l.level) });
  try {
    const threaded: PyramidPass[] = [];
    for (const pass of passes) {
      const source = slide.metadata.levels[pass.sourceLevel]!;
      const root = pass.levels[0]!;
      const canPassThrough =
        o.passthrough &&
        o.format === "jpeg" &&
        o.overlap === 0 &&
        source.compression === "jpeg" &&
        source.tileWidth === o.tileSize &&
        source.tileHeight === o.tileSize &&
        source.width === root.width &&
        source.height === root.height;
      if (!canPassThrough && threads) {
        threaded.push(pass);
      } else if (canPassThrough && pass.levels.length === 1) {
        tilesPassedThrough += await copyLevel(slide, pass.sourceLevel, root, o.tileSize, inFlight, o.inFlight, write, encode, options.signal);
      } else {
        tilesPassedThrough += await streamPass(slide, pass, o, canPassThrough, inFlight, write, encode, options.signal);
      }
    }
    if (threads && threaded.length > 0) await threads.run(slide, threads.slidePath, threads.workers, threaded, o, write, encode, options.signal);
    await inFlight.waitBelow(0);
    report(true);
    await sink.commit(dzi);
  } catch (error) {
    await inFlight.waitBelow(0).catch(() => {});
    await sink.abort().catch(() => {});
    throw toWsiError(error, "CORRUPT", slide.metadata.name);
  }
  return {
    name: o.name,
    width,
    height,
    tileSize: o.tileSize,
    overlap: o.overlap,
    format: o.format,
    levels: levels.length,
    tilesWritten,
    tilesPassedThrough,
    dzi,
  };
}

export type Write = (level: number, col: number, row: number, data: Promise<Uint8Array> | Uint8Array) => void;
export type Encode = (image: RgbImage) => Promise<Uint8Array>;

/** A level that exists in the source at this exact geometry: copy interior tiles, re-encode cropped edge tiles. */
async function copyLevel(
  slide: Slide,
  sourceLevel: number,
  level: DeepZoomLevel,
  size: number,
  inFlight: InFlight,
  limit: number,
  write: Write,
  encode: Encode,
  signal?: AbortSignal,
): Promise<number> {
  let copied = 0;
  for (let row = 0; row < level.rows; row++) {
    checkAborted(signal);
    for (let col = 0; col < level.cols; col++) {
      const interior = (col + 1) * size <= level.width && (row + 1) * size <= level.height;
      if (interior) {
        copied++;
        write(
          level.level,
          col,
          row,
          slide.readRawTile(sourceLevel, col, row).then((raw) => raw.bytes),
        );
      } else {
        write(level.level, col, row, slide.readTile(sourceLevel, col, row).then(encode));
      }
    }
    await inFlight.waitBelow(limit);
  }
  return copied;
}

/** Streams one source level through a chain of LevelWriters, one per Deep Zoom level of the pass. */
export async function streamPass(
  slide: Slide,
  pass: PyramidPass,
  o: ResolvedOptions,
  passThroughRoot: boolean,
  inFlight: Pick<InFlight, "waitBelow">,
  write: Write,
  encode: Encode,
  signal?: AbortSignal,
): Promise<number> {
  const source = slide.metadata.levels[pass.sourceLevel]!;
  const root = pass.levels[0]!;
  let copied = 0;
  let rawBand: Uint8Array[] = [];
  const emit: EmitTile = (tile: TileRect, pixels) => {
    const interior = tile.width === o.tileSize && tile.height === o.tileSize;
    if (passThroughRoot && tile.level === root && interior && rawBand[tile.col]) {
      copied++;
      write(tile.level.level, tile.col, tile.row, rawBand[tile.col]!);
    } else {
      write(tile.level.level, tile.col, tile.row, encode(pixels));
    }
  };
  let writer: LevelWriter | undefined;
  for (const level of [...pass.levels].reverse()) writer = new LevelWriter(level, o.tileSize, o.overlap, emit, writer);
  // Read once: the standalone JPEG is both copied out and decoded for the levels below.
  const readRawAndDecode = async (col: number, row: number, into: Buffer): Promise<BandTile & { raw?: Uint8Array }> => {
    const raw = await slide.readRawTile(pass.sourceLevel, col, row);
    if (raw.kind !== "jpeg" || raw.bytes.length === 0) return { image: await slide.decodeTile(pass.sourceLevel, col, row, into) };
    const image = await decodeJpeg(raw.bytes, into);
    // Edge tiles may be stored at their size inside the image (NDPI's spliced tiles are).
    const needWidth = Math.min(source.tileWidth, source.width - col * source.tileWidth);
    const needHeight = Math.min(source.tileHeight, source.height - row * source.tileHeight);
    if (image.width < needWidth || image.height < needHeight) {
      throw new WsiError(
        "CORRUPT",
        `${slide.metadata.name}: a JPEG tile is ${image.width} × ${image.height}, smaller than the declared ${needWidth} × ${needHeight}.`,
      );
    }
    return { image, raw: raw.bytes };
  };
  const readBand = decodeBands(slide, pass.sourceLevel, passThroughRoot ? readRawAndDecode : undefined);
  await feedSourceLevel({
    source,
    root,
    top: writer!,
    readBand,
    onBand: (band) => (rawBand = band.map((t) => t.raw!)),
    afterBand: () => inFlight.waitBelow(o.inFlight),
    signal,
  });
  return copied;
}
