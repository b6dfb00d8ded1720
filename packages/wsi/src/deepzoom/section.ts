import { decodeJpegScaledInto, hasScaledJpegDecode, readJpegSize } from "../codec/turbojpeg";
import { WsiError } from "../errors";
import type { RgbImage } from "../image";
import type { Slide } from "../slide";
import { checkAborted } from "./feed";
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
 * Decodes bands (one row of source tiles) side by side into one buffer, rows `pitch` bytes
 * apart, so the rows of a tile row are then one contiguous copy per band instead of one per
 * source tile and row. JPEG tiles go straight into place (libjpeg-turbo with a row pitch);
 * other tiles, or without libturbojpeg, are decoded and copied in.
 */
function wideBands(slide: Slide, sourceLevel: number, pitch: number): (band: number, into: Buffer) => Promise<void> {
  const source = slide.metadata.levels[sourceLevel]!;
  const across = Math.ceil(source.width / source.tileWidth);
  const direct = hasScaledJpegDecode();
  let scratch: Buffer | undefined;
  const decodeInto = async (col: number, band: number, into: Buffer) => {
    const offset = col * source.tileWidth * 3;
    const needWidth = Math.min(source.tileWidth, source.width - col * source.tileWidth);
    const needHeight = Math.min(source.tileHeight, source.height - band * source.tileHeight);
    const raw = direct ? await slide.readRawTile(sourceLevel, col, band) : undefined;
    if (raw?.kind === "jpeg" && raw.bytes.length > 0) {
      const size = readJpegSize(raw.bytes);
      if (size.width < needWidth || size.height < needHeight || size.width > source.tileWidth || size.height > source.tileHeight) {
        throw new WsiError(
          "CORRUPT",
          `${slide.metadata.name}: a JPEG tile is ${size.width} × ${size.height}, not the declared ${needWidth} × ${needHeight} (tiles of ${source.tileWidth} × ${source.tileHeight}).`,
        );
      }
      await decodeJpegScaledInto(raw.bytes, 1, into, offset, pitch, size, { fast: true });
      return;
    }
    scratch ??= Buffer.allocUnsafe(source.tileWidth * source.tileHeight * 3);
    const image = await slide.decodeTile(sourceLevel, col, band, scratch);
    const rowBytes = Math.min(image.width, source.tileWidth) * 3;
    for (let y = 0; y < Math.min(image.height, source.tileHeight); y++) {
      image.data.copy(into, offset + y * pitch, y * image.width * 3, y * image.width * 3 + rowBytes);
    }
  };
  return async (band, into) => {
    // A decoded-and-copied tile shares the scratch buffer: those go one at a time.
    if (!direct) for (let col = 0; col < across; col++) await decodeInto(col, band, into);
    else await Promise.all(Array.from({ length: across }, (_, col) => decodeInto(col, band, into)));
  };
}

/**
 * Cuts the tiles of rows rowStart … rowEnd − 1 of a Deep Zoom level from a source level of its
 * size (the same pixels feedSourceLevel and LevelWriter give: a source a pixel short has its
 * last column and row repeated, a wider one is cut). One tile row's pixels are held at a time,
 * in two reused buffers: `emit` must be done with a tile's pixels when its promise settles.
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
  const across = Math.ceil(source.width / source.tileWidth);
  const copyWidth = Math.min(source.width, level.width);
  const lastSourceRow = Math.min(source.height, level.height) - 1;
  const stride = Math.max(across * source.tileWidth, level.width);
  const pitch = stride * 3;
  const readBand = wideBands(slide, job.sourceLevel, pitch);
  // Two tile-row buffers in turn for rows across bands: one is filled while the other's tiles encode.
  // +1 row of slack: a tile's strided view must reach stride × height bytes (the codec checks).
  const windowRows = Math.min(level.height, tileSize + 2 * overlap) + 1;
  const windows = [0, 1].map(() => Buffer.allocUnsafe(windowRows * pitch));
  const encoding: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
  const lastBand = Math.floor(Math.min(lastSourceRow, Math.min(level.height, job.rowEnd * tileSize + overlap) - 1) / source.tileHeight);
  // Two band buffers, by band parity: rows only move down, so the band after the one in use
  // decodes meanwhile into the buffer of the band before, which no row needs any more.
  // A tile row inside one band is encoded from the band buffer itself (+1 row of slack, as for
  // the windows): such a buffer is decoded into again only once those encodes are done.
  const bandBuffers = [0, 1].map(() => Buffer.allocUnsafe((source.tileHeight + 1) * pitch));
  const bandEncoding: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
  const held = new Map<number, Promise<void>>();
  const start = (band: number) => {
    if (held.has(band) || band > lastBand) return;
    for (const key of held.keys()) if (key % 2 === band % 2) held.delete(key);
    const decoded = bandEncoding[band % 2]!.then(() => readBand(band, bandBuffers[band % 2]!));
    decoded.catch(() => {}); // failures surface where the band is awaited, not as unhandled
    held.set(band, decoded);
  };
  const bandOf = async (band: number) => {
    start(band);
    const decoded = held.get(band)!;
    start(band + 1);
    await decoded;
    return bandBuffers[band % 2]!;
  };

  /** Emits a tile row whose first image row starts at byte 0 of `rows` (rows `pitch` bytes apart). */
  const emitRow = (row: number, y0: number, y1: number, rows: Buffer): Promise<unknown> => {
    const height = y1 - y0;
    const pending: Promise<void>[] = [];
    for (let col = 0; col < level.cols; col++) {
      const x = Math.max(0, col * tileSize - overlap);
      const width = Math.min(level.width, (col + 1) * tileSize + overlap) - x;
      pending.push(emit({ level, col, row, x, y: y0, width, height }, { width, height, stride, data: rows.subarray(x * 3) }));
    }
    return Promise.all(pending);
  };

  for (let row = job.rowStart; row < job.rowEnd; row++) {
    checkAborted(signal);
    const y0 = Math.max(0, row * tileSize - overlap);
    const y1 = Math.min(level.height, (row + 1) * tileSize + overlap);
    const firstBand = Math.floor(y0 / source.tileHeight);
    if (y1 - 1 <= lastSourceRow && Math.floor((y1 - 1) / source.tileHeight) === firstBand && copyWidth === level.width) {
      const bandBuffer = await bandOf(firstBand);
      const top = (y0 - firstBand * source.tileHeight) * pitch;
      const pending = emitRow(row, y0, y1, bandBuffer.subarray(top));
      bandEncoding[firstBand % 2] = Promise.all([bandEncoding[firstBand % 2], pending]);
      continue;
    }
    const slot = row % 2;
    await encoding[slot];
    const window = windows[slot]!;
    // Rows inside the source: one copy per band; below it (a source a row short), its last row again.
    for (let y = y0; y < y1; ) {
      const sourceY = Math.min(y, lastSourceRow);
      const band = Math.floor(sourceY / source.tileHeight);
      const bandBuffer = await bandOf(band);
      const inBand = sourceY - band * source.tileHeight;
      const rows = y > lastSourceRow ? 1 : Math.min(y1, (band + 1) * source.tileHeight, lastSourceRow + 1) - y;
      bandBuffer.copy(window, (y - y0) * pitch, inBand * pitch, (inBand + rows) * pitch);
      y += rows;
    }
    if (copyWidth < level.width) {
      for (let y = 0; y < y1 - y0; y++) {
        const at = y * pitch;
        for (let x = copyWidth; x < level.width; x++) window.copy(window, at + x * 3, at + (copyWidth - 1) * 3, at + copyWidth * 3);
      }
    }
    encoding[slot] = emitRow(row, y0, y1, window);
  }
  await Promise.all([...encoding, ...bandEncoding]);
  await Promise.allSettled(held.values()); // a band decoded ahead that no row needed
}
