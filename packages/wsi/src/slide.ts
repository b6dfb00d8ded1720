import { statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { type ByteSource, openBlockingFileSource, openFileSource } from "./byte-source";
import { WsiError, toWsiError } from "./errors";
import { findSourceFormat, refuseUnclaimed } from "./formats/index";
import type { LevelReader, RawTile, SlideFormat, SlideParts } from "./formats/level-reader";
import { pathFormats, preferPathFormat } from "./formats/path-formats";
import type { AssociatedName } from "./formats/types";
import { type RgbImage, cropImage } from "./image";

export type { RawTile, SlideFormat } from "./formats/level-reader";

export interface SlideLevel {
  index: number;
  width: number;
  height: number;
  tileWidth: number;
  tileHeight: number;
  /** Level-0 pixels per pixel of this level. */
  downsample: number;
  compression: string;
}

export interface AssociatedImageInfo {
  name: AssociatedName;
  width: number;
  height: number;
  compression: string;
}

export interface SlideMetadata {
  name: string;
  format: SlideFormat;
  vendor: string;
  width: number;
  height: number;
  bigTiff: boolean;
  fileSize: number;
  mppX: number | null;
  mppY: number | null;
  objectivePower: number | null;
  levels: SlideLevel[];
  associated: AssociatedImageInfo[];
  properties: Record<string, string>;
}

export interface Slide {
  readonly metadata: SlideMetadata;
  /** Stored bytes of one tile, without decoding (JPEG: tables spliced in, colour marker added). */
  readRawTile(level: number, col: number, row: number): Promise<RawTile>;
  /** One tile decoded to RGB, cropped to the image where it overhangs the edge. */
  readTile(level: number, col: number, row: number): Promise<RgbImage>;
  /**
   * One tile decoded at its full stored size (edge tiles not cropped, or at least the part
   * inside the image), into `into` when given and large enough: the pyramid builder's
   * allocation-free path.
   */
  decodeTile(level: number, col: number, row: number, into?: Buffer): Promise<RgbImage>;
  /** Label, macro or thumbnail decoded to RGB. Callers decide whether it may leave the lab. */
  readAssociated(name: AssociatedName): Promise<RgbImage>;
  close(): Promise<void>;
}

/** Opens a single-file slide from its bytes (local file, S3 object): native readers only. */
export async function openSlide(source: ByteSource): Promise<Slide> {
  try {
    const size = await source.size();
    const head = await source.read(0, Math.min(size, 512));
    const format = await findSourceFormat(source, head, size);
    if (!format) refuseUnclaimed(source.name, head);
    const parts = await format.open(source, head);
    return createSlide(source.name, parts, () => source.close());
  } catch (error) {
    throw toWsiError(error, "CORRUPT", source.name);
  }
}

/**
 * Opens a slide by path: a file, a file with companions (MRXS) or a folder (DICOM series).
 * Native readers first; what none claims, or what only the generic TIFF reading would take
 * although a library knows the vendor, goes to the path readers (OpenSlide).
 * `blockingReads`: read the file with blocking reads (see openBlockingFileSource; worker threads only).
 */
export async function openSlideAt(path: string, options: { blockingReads?: boolean } = {}): Promise<Slide> {
  const info = await (options.blockingReads ? Promise.resolve().then(() => statSync(path)) : stat(path)).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    throw new WsiError(
      code === "ENOENT" ? "NOT_FOUND" : "IO_ERROR",
      `${path}: ${code === "ENOENT" ? "no such file or folder" : `cannot read (${code ?? String(error)})`}.`,
      { cause: error },
    );
  });
  const isFolder = info.isDirectory();
  const name = path.split("/").filter(Boolean).pop() ?? path;
  const viaPath = async () => {
    for (const format of pathFormats) {
      if (await format.claims(path, isFolder)) return format;
    }
    return undefined;
  };
  if (isFolder) {
    const format = await viaPath();
    if (!format)
      throw new WsiError(
        "UNSUPPORTED_FORMAT",
        `${path}: is a folder that holds no slide pathx reads; give a DICOM WSI series folder or the slide file itself (for MRXS, the .mrxs file).`,
      );
    return createSlide(name, await openParts(name, () => format.open(path)), async () => {});
  }
  const source = await (options.blockingReads ? openBlockingFileSource : openFileSource)(path);
  try {
    const size = await source.size();
    const head = await source.read(0, Math.min(size, 512));
    // A file too small to be a slide may still be one with companions (an MRXS index).
    const native = await findSourceFormat(source, head, size).catch((error: unknown) => ({ error }));
    const claimed = native && !("error" in native) ? native : undefined;
    // A structure the native reader has read and found free of any vendor OpenSlide reads
    // better needs no probe; one it cannot read is asked about as before (and fails as before).
    const inspected = claimed?.inspect ? await claimed.inspect(source, head).catch(() => undefined) : undefined;
    const prefer = claimed && (inspected ? inspected.mayNeedPathReader : true) ? await preferPathFormat(claimed, path) : false;
    const other = claimed && !prefer ? undefined : await viaPath();
    if (other) {
      await source.close();
      return createSlide(name, await openParts(name, () => other.open(path)), async () => {});
    }
    if (native && "error" in native) throw native.error;
    if (!claimed) refuseUnclaimed(source.name, head);

    return createSlide(name, await (inspected ? inspected.open() : claimed.open(source, head)), () => source.close());
  } catch (error) {
    await source.close().catch(() => {});
    throw toWsiError(error, "CORRUPT", name);
  }
}

async function openParts(name: string, open: () => Promise<SlideParts>): Promise<SlideParts> {
  try {
    return await open();
  } catch (error) {
    throw toWsiError(error, "CORRUPT", name);
  }
}

function describeParts(name: string, parts: SlideParts): SlideMetadata {
  const base = parts.levels[0];
  if (!base) throw new WsiError("UNSUPPORTED_FORMAT", `${name}: no pyramid level found; not a whole-slide image.`);
  return {
    name,
    format: parts.format,
    vendor: parts.vendor,
    width: base.width,
    height: base.height,
    bigTiff: parts.bigTiff,
    fileSize: parts.fileSize,
    mppX: parts.mppX ?? null,
    mppY: parts.mppY ?? null,
    objectivePower: parts.objectivePower ?? null,
    levels: parts.levels.map((l, index) => ({
      index,
      width: l.width,
      height: l.height,
      tileWidth: l.tileWidth,
      tileHeight: l.tileHeight,
      downsample: Math.round(((base.width / l.width + base.height / l.height) / 2) * 1000) / 1000,
      compression: l.compression,
    })),
    associated: (Object.entries(parts.associated) as [AssociatedName, NonNullable<SlideParts["associated"][AssociatedName]>][]).map(([n, a]) => ({
      name: n,
      width: a.width,
      height: a.height,
      compression: a.compression,
    })),
    properties: parts.properties,
  };
}

/** The public slide over any format's parts: checks every index before a reader sees it. */
export function createSlide(name: string, parts: SlideParts, closeSource: () => Promise<void>): Slide {
  const metadata = describeParts(name, parts);
  const levelOf = (level: number, col: number, row: number): LevelReader => {
    const l = parts.levels[level];
    if (!l) throw new WsiError("INVALID_OPTIONS", `${name}: there is no level ${level} (the slide has ${parts.levels.length}).`);
    const across = Math.ceil(l.width / l.tileWidth);
    const down = Math.ceil(l.height / l.tileHeight);
    if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= across || row >= down) {
      throw new WsiError("INVALID_OPTIONS", `${name}: tile ${col},${row} is outside level ${level} (${across} × ${down} tiles).`);
    }
    return l;
  };
  return {
    metadata,
    readRawTile: async (level, col, row) => levelOf(level, col, row).readRaw(col, row),
    decodeTile: async (level, col, row, into) => levelOf(level, col, row).decode(col, row, into),
    async readTile(level, col, row) {
      const l = levelOf(level, col, row);
      const tile = await l.decode(col, row);
      const width = Math.min(l.tileWidth, l.width - col * l.tileWidth);
      const height = Math.min(l.tileHeight, l.height - row * l.tileHeight);
      if (tile.width < width || tile.height < height) {
        throw new WsiError(
          "CORRUPT",
          `${name}: tile ${col},${row} of level ${level} decoded to ${tile.width} × ${tile.height}, smaller than the ${width} × ${height} expected.`,
        );
      }
      return width === tile.width && height === tile.height && !tile.stride ? tile : cropImage(tile, 0, 0, width, height);
    },
    async readAssociated(which) {
      const a = parts.associated[which];
      if (!a) throw new WsiError("NOT_FOUND", `${name}: has no ${which} image.`);
      return a.read();
    },
    async close() {
      await parts.close?.();
      await closeSource();
    },
  };
}
