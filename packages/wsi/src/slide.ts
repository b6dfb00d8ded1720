import type { ByteSource } from "./byte-source";
import { checkDecodable, decodeChunk } from "./codec/tiff-chunk";
import { makeStandaloneJpeg } from "./codec/jpeg";
import { WsiError, toWsiError } from "./errors";
import { layoutSlide } from "./formats/index";
import type { AssociatedName, SlideLayout } from "./formats/types";
import { type RgbImage, cropImage } from "./image";
import { limits } from "./limits";
import { type TiffDirectory, readTiff } from "./tiff/directory";
import { Compression, describeCompression } from "./tiff/tags";

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
  format: SlideLayout["format"];
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

/** A raw tile as stored; JPEG tiles come back as a standalone JPEG file a browser can show. */
export interface RawTile {
  kind: "jpeg" | "other";
  bytes: Uint8Array;
}

export interface Slide {
  readonly metadata: SlideMetadata;
  /** Stored bytes of one tile, without decoding (JPEG: tables spliced in, colour marker added). */
  readRawTile(level: number, col: number, row: number): Promise<RawTile>;
  /** One tile decoded to RGB, cropped to the image where it overhangs the edge. */
  readTile(level: number, col: number, row: number): Promise<RgbImage>;
  /**
   * One tile decoded at its full stored size (edge tiles not cropped), into `into` when given
   * and large enough: the pyramid builder's allocation-free path.
   */
  decodeTile(level: number, col: number, row: number, into?: Buffer): Promise<RgbImage>;
  /** Label, macro or thumbnail decoded to RGB. Callers decide whether it may leave the lab. */
  readAssociated(name: AssociatedName): Promise<RgbImage>;
  close(): Promise<void>;
}

export async function openSlide(source: ByteSource): Promise<Slide> {
  try {
    const file = await readTiff(source);
    const layout = layoutSlide(file, source.name);
    for (const level of layout.levels) checkDecodable(source.name, level);
    const base = layout.levels[0]!;
    const metadata: SlideMetadata = {
      name: source.name,
      format: layout.format,
      vendor: layout.vendor,
      width: base.width,
      height: base.height,
      bigTiff: file.bigTiff,
      fileSize: file.size,
      mppX: layout.mppX ?? null,
      mppY: layout.mppY ?? null,
      objectivePower: layout.objectivePower ?? null,
      levels: layout.levels.map((d, index) => ({
        index,
        width: d.width,
        height: d.height,
        tileWidth: d.chunkWidth,
        tileHeight: d.chunkHeight,
        downsample: Math.round(((base.width / d.width + base.height / d.height) / 2) * 1000) / 1000,
        compression: describeCompression(d.compression),
      })),
      associated: (Object.entries(layout.associated) as [AssociatedName, TiffDirectory][]).map(([name, d]) => ({
        name,
        width: d.width,
        height: d.height,
        compression: describeCompression(d.compression),
      })),
      properties: layout.properties,
    };
    return createSlide(source, layout, metadata);
  } catch (error) {
    throw toWsiError(error, "CORRUPT", source.name);
  }
}

function createSlide(source: ByteSource, layout: SlideLayout, metadata: SlideMetadata): Slide {
  const levelDirectory = (level: number) => {
    const d = layout.levels[level];
    if (!d) throw new WsiError("INVALID_OPTIONS", `${source.name}: there is no level ${level} (the slide has ${layout.levels.length}).`);
    return d;
  };
  const readChunkBytes = async (d: TiffDirectory, index: number) => {
    const table = await d.loadChunks();
    const offset = table.offsets[index]!;
    const length = table.byteCounts[index]!;
    if (length === 0) return undefined; // sparse tile: nothing scanned there
    return source.read(offset, length);
  };
  const tileIndex = async (d: TiffDirectory, col: number, row: number) => {
    const table = await d.loadChunks();
    if (!Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= table.across || row >= table.down) {
      throw new WsiError("INVALID_OPTIONS", `${source.name}: tile ${col},${row} is outside ${d.label} (${table.across} × ${table.down} tiles).`);
    }
    return row * table.across + col;
  };
  const blank = (width: number, height: number): RgbImage => ({ width, height, data: Buffer.alloc(width * height * 3, 255) });

  const decodeTile = async (level: number, col: number, row: number, into?: Buffer) => {
    const d = levelDirectory(level);
    const bytes = await readChunkBytes(d, await tileIndex(d, col, row));
    if (!bytes) return blank(d.chunkWidth, d.chunkHeight);
    return decodeChunk(d, bytes, d.chunkHeight, into);
  };

  return {
    metadata,
    async readRawTile(level, col, row) {
      const d = levelDirectory(level);
      const bytes = (await readChunkBytes(d, await tileIndex(d, col, row))) ?? new Uint8Array(0);
      if (d.compression === Compression.Jpeg && bytes.length > 0) {
        return { kind: "jpeg", bytes: makeStandaloneJpeg(bytes, d.jpegTables, d.photometric) };
      }
      return { kind: "other", bytes };
    },
    async readTile(level, col, row) {
      const d = levelDirectory(level);
      const tile = await decodeTile(level, col, row);
      const width = Math.min(d.chunkWidth, d.width - col * d.chunkWidth);
      const height = Math.min(d.chunkHeight, d.height - row * d.chunkHeight);
      return width === tile.width && height === tile.height ? tile : cropImage(tile, 0, 0, width, height);
    },
    decodeTile,
    async readAssociated(name) {
      const d = layout.associated[name];
      if (!d) throw new WsiError("NOT_FOUND", `${source.name}: has no ${name} image.`);
      if (d.width * d.height > limits.maxAssociatedPixels) {
        throw new WsiError("TOO_LARGE", `${source.name}: the ${name} image is ${d.width} × ${d.height}; refusing to decode it.`);
      }
      checkDecodable(source.name, d);
      return readWholeImage(d, (index) => readChunkBytes(d, index), blank);
    },
    close: () => source.close(),
  };
}

/** Decodes a whole (small) directory, tiled or stripped, into one RGB image. */
async function readWholeImage(
  d: TiffDirectory,
  readChunk: (index: number) => Promise<Uint8Array | undefined>,
  blank: (w: number, h: number) => RgbImage,
): Promise<RgbImage> {
  const table = await d.loadChunks();
  const out = blank(d.width, d.height);
  for (let row = 0; row < table.down; row++) {
    for (let col = 0; col < table.across; col++) {
      const bytes = await readChunk(row * table.across + col);
      if (!bytes) continue;
      const rows = d.tiled ? d.chunkHeight : Math.min(d.chunkHeight, d.height - row * d.chunkHeight);
      const chunk = await decodeChunk(d, bytes, rows);
      const x0 = col * d.chunkWidth;
      const y0 = row * d.chunkHeight;
      const w = Math.min(d.chunkWidth, d.width - x0);
      const h = Math.min(rows, d.height - y0);
      for (let y = 0; y < h; y++) {
        chunk.data.copy(out.data, ((y0 + y) * d.width + x0) * 3, y * chunk.width * 3, (y * chunk.width + w) * 3);
      }
    }
  }
  return out;
}
