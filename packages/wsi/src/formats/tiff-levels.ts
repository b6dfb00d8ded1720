import type { ByteSource } from "../byte-source";
import { checkDecodable, decodeChunk } from "../codec/tiff-chunk";
import { makeStandaloneJpeg } from "../codec/jpeg";
import { WsiError } from "../errors";
import type { RgbImage } from "../image";
import { limits } from "../limits";
import type { TiffDirectory } from "../tiff/directory";
import { Compression, describeCompression } from "../tiff/tags";
import type { AssociatedReader, LevelReader, SlideParts } from "./level-reader";
import type { AssociatedName, SlideLayout } from "./types";

export function blankImage(width: number, height: number): RgbImage {
  return { width, height, data: Buffer.alloc(width * height * 3, 255) };
}

async function readChunkBytes(source: ByteSource, d: TiffDirectory, index: number): Promise<Uint8Array | undefined> {
  const table = await d.loadChunks();
  const length = table.byteCounts[index]!;
  if (length === 0) return undefined; // sparse tile: nothing scanned there
  return source.read(table.offsets[index]!, length);
}

/** A tiled TIFF directory as a pyramid level: tiles read by offset, decoded by compression. */
export function tiffLevel(source: ByteSource, d: TiffDirectory): LevelReader {
  const index = async (col: number, row: number) => {
    const table = await d.loadChunks();
    if (col >= table.across || row >= table.down) {
      throw new WsiError("INVALID_OPTIONS", `${source.name}: tile ${col},${row} is outside ${d.label} (${table.across} × ${table.down} tiles).`);
    }
    return row * table.across + col;
  };
  return {
    width: d.width,
    height: d.height,
    tileWidth: d.chunkWidth,
    tileHeight: d.chunkHeight,
    compression: describeCompression(d.compression),
    async readRaw(col, row) {
      const bytes = (await readChunkBytes(source, d, await index(col, row))) ?? new Uint8Array(0);
      if (d.compression === Compression.Jpeg && bytes.length > 0) {
        return { kind: "jpeg", bytes: makeStandaloneJpeg(bytes, d.jpegTables, d.photometric) };
      }
      return { kind: "other", bytes };
    },
    async decode(col, row, into) {
      const bytes = await readChunkBytes(source, d, await index(col, row));
      if (!bytes) return blankImage(d.chunkWidth, d.chunkHeight);
      return decodeChunk(d, bytes, d.chunkHeight, into);
    },
  };
}

/** A (small) TIFF directory decoded whole, tiled or stripped: the pictures of the glass. */
export function tiffAssociated(source: ByteSource, d: TiffDirectory, name: AssociatedName): AssociatedReader {
  return {
    width: d.width,
    height: d.height,
    compression: describeCompression(d.compression),
    async read() {
      if (d.width * d.height > limits.maxAssociatedPixels) {
        throw new WsiError("TOO_LARGE", `${source.name}: the ${name} image is ${d.width} × ${d.height}; refusing to decode it.`);
      }
      checkDecodable(source.name, d);
      return readWholeDirectory(d, (index) => readChunkBytes(source, d, index));
    },
  };
}

async function readWholeDirectory(d: TiffDirectory, readChunk: (index: number) => Promise<Uint8Array | undefined>): Promise<RgbImage> {
  const table = await d.loadChunks();
  const out = blankImage(d.width, d.height);
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

/** A TIFF vendor layout (directories chosen as levels and pictures) as slide parts. */
export function tiffLayoutParts(source: ByteSource, layout: SlideLayout, file: { bigTiff: boolean; size: number }): SlideParts {
  for (const level of layout.levels) checkDecodable(source.name, level);
  return {
    format: layout.format,
    vendor: layout.vendor,
    bigTiff: file.bigTiff,
    fileSize: file.size,
    levels: layout.levels.map((d) => tiffLevel(source, d)),
    associated: Object.fromEntries(
      (Object.entries(layout.associated) as [AssociatedName, TiffDirectory][]).map(([name, d]) => [name, tiffAssociated(source, d, name)]),
    ),
    mppX: layout.mppX,
    mppY: layout.mppY,
    objectivePower: layout.objectivePower,
    properties: layout.properties,
  };
}
