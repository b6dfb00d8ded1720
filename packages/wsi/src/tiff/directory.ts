import { GeoTIFF, type ImageFileDirectory } from "geotiff";
import type { ByteSource } from "../byte-source";
import { WsiError, toWsiError } from "../errors";
import { limits } from "../limits";
import { Tag, fieldTypeSize } from "./tags";

/** One image file directory (IFD) of a TIFF, with the values the slide readers need. */
export interface TiffDirectory {
  /** "ifd 2" or "ifd 0 / subifd 1": for messages. */
  readonly label: string;
  readonly offset: number;
  readonly width: number;
  readonly height: number;
  readonly tiled: boolean;
  /** Chunk geometry: the tile size, or (width, rows per strip) for stripped images. */
  readonly chunkWidth: number;
  readonly chunkHeight: number;
  readonly compression: number;
  readonly photometric: number;
  readonly samplesPerPixel: number;
  readonly bitsPerSample: number[];
  readonly planarConfiguration: number;
  readonly predictor: number;
  readonly sampleFormat: number;
  readonly newSubfileType: number;
  readonly description: string;
  readonly software: string;
  readonly xResolution?: number;
  readonly yResolution?: number;
  readonly resolutionUnit: number;
  readonly jpegTables?: Uint8Array;
  readonly subIfds: TiffDirectory[];
  readonly hasNdpiTag: boolean;
  readonly hasXmp: boolean;
  /** Chunk byte ranges, loaded on first use and checked against the file size. */
  loadChunks(): Promise<ChunkTable>;
}

export interface ChunkTable {
  readonly across: number;
  readonly down: number;
  readonly offsets: ArrayLike<number>;
  readonly byteCounts: ArrayLike<number>;
}

export interface TiffFile {
  readonly littleEndian: boolean;
  readonly bigTiff: boolean;
  readonly size: number;
  readonly directories: TiffDirectory[];
}

/** geotiff asks for 1 KiB slices; near the end of a file we hand back what exists. */
function toGeotiffSource(source: ByteSource, size: number) {
  return {
    async fetch(slices: { offset: number; length: number }[]): Promise<ArrayBuffer[]> {
      return Promise.all(
        slices.map(async ({ offset, length }) => {
          const clamped = Math.max(0, Math.min(length, size - offset));
          const bytes = await source.read(offset, clamped);
          // Buffer#slice shares memory; geotiff needs an ArrayBuffer of exactly these bytes.
          return Uint8Array.prototype.slice.call(bytes).buffer as ArrayBuffer;
        }),
      );
    },
  };
}

function readUint(view: DataView, at: number, bytes: 2 | 4 | 8, le: boolean): number {
  if (bytes === 2) return view.getUint16(at, le);
  if (bytes === 4) return view.getUint32(at, le);
  const value = view.getBigUint64(at, le);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  return Number(value);
}

/**
 * Checks an IFD's entry table before geotiff parses it: geotiff allocates arrays as large as
 * an entry's count says, so a forged count must be refused here first.
 */
async function checkEntryTable(source: ByteSource, file: { size: number; bigTiff: boolean; le: boolean }, offset: number, label: string) {
  const countBytes = file.bigTiff ? 8 : 2;
  const entryBytes = file.bigTiff ? 20 : 12;
  if (offset < 8 || offset + countBytes > file.size) {
    throw new WsiError(
      offset >= file.size ? "TRUNCATED" : "CORRUPT",
      `${source.name}: ${label} starts at byte ${offset}, outside the file (${file.size} bytes); the file is damaged or truncated.`,
    );
  }
  const head = await source.read(offset, countBytes);
  const count = readUint(new DataView(head.buffer, head.byteOffset, head.byteLength), 0, countBytes as 2 | 8, file.le);
  if (count === 0 || count > limits.maxEntriesPerDirectory) {
    throw new WsiError("CORRUPT", `${source.name}: ${label} claims ${count} entries; the file is damaged.`);
  }
  const tableBytes = count * entryBytes + (file.bigTiff ? 8 : 4);
  const table = await source.read(offset + countBytes, Math.min(tableBytes, file.size - offset - countBytes));
  if (table.length < tableBytes) {
    throw new WsiError("TRUNCATED", `${source.name}: ${label} runs past the end of the file; it is probably truncated.`);
  }
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const inline = file.bigTiff ? 8 : 4;
  for (let i = 0; i < count; i++) {
    const at = i * entryBytes;
    const tag = view.getUint16(at, file.le);
    const type = view.getUint16(at + 2, file.le);
    const n = readUint(view, at + 4, file.bigTiff ? 8 : 4, file.le);
    const size = fieldTypeSize[type] ?? 0;
    if (size === 0) continue; // geotiff skips unknown types only if we drop them; refuse below if it is a tag we need
    const bytes = n * size;
    if (bytes > inline) {
      const valueOffset = readUint(view, at + (file.bigTiff ? 12 : 8), file.bigTiff ? 8 : 4, file.le);
      if (valueOffset + bytes > file.size) {
        throw new WsiError(
          valueOffset < file.size && bytes <= file.size ? "TRUNCATED" : "CORRUPT",
          `${source.name}: ${label} tag ${tag} points to bytes ${valueOffset}–${valueOffset + bytes}, past the end of the file (${file.size} bytes).`,
        );
      }
    }
    if (tag === Tag.ImageDescription && bytes > limits.maxTextBytes) {
      throw new WsiError("TOO_LARGE", `${source.name}: ${label} has an image description of ${bytes} bytes; refusing to read it.`);
    }
  }
  const unknownTypes = [...Array(count).keys()].filter((i) => !fieldTypeSize[view.getUint16(i * entryBytes + 2, file.le)]);
  if (unknownTypes.length > 0) {
    throw new WsiError("CORRUPT", `${source.name}: ${label} has entries of unknown TIFF field types; the file is damaged.`);
  }
  return count;
}

function firstNumber(value: unknown): number | undefined {
  if (typeof value === "number") return value;
  if (typeof value === "bigint") return Number(value);
  if (value && typeof value === "object" && "length" in value && (value as ArrayLike<unknown>).length > 0) {
    return firstNumber((value as ArrayLike<unknown>)[0]);
  }
  return undefined;
}

function numberList(value: unknown): number[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "number" || typeof value === "bigint") return [Number(value)];
  return Array.from(value as ArrayLike<number | bigint>, Number);
}

function rational(value: unknown): number | undefined {
  const list = numberList(value);
  if (list.length < 2 || !list[1]) return undefined;
  return list[0]! / list[1];
}

function text(value: unknown): string {
  if (typeof value === "string") return value.replace(/\0+$/, "");
  if (value instanceof Uint8Array) return Buffer.from(value).toString("latin1").replace(/\0+$/, "");
  if (Array.isArray(value)) return value.join("");
  return "";
}

async function describeDirectory(
  source: ByteSource,
  file: { size: number; bigTiff: boolean; le: boolean },
  ifd: ImageFileDirectory,
  offset: number,
  label: string,
  subIfds: TiffDirectory[],
): Promise<TiffDirectory> {
  const get = (tag: number) => ifd.loadValue(tag);
  const width = firstNumber(await get(Tag.ImageWidth)) ?? 0;
  const height = firstNumber(await get(Tag.ImageLength)) ?? 0;
  const tileWidth = firstNumber(await get(Tag.TileWidth));
  const tileHeight = firstNumber(await get(Tag.TileLength));
  const tiled = ifd.hasTag(Tag.TileOffsets);
  const samplesPerPixel = firstNumber(await get(Tag.SamplesPerPixel)) ?? 1;
  const rowsPerStrip = Math.min(firstNumber(await get(Tag.RowsPerStrip)) ?? height, height || 1);
  const planarConfiguration = firstNumber(await get(Tag.PlanarConfiguration)) ?? 1;
  const jpegTablesValue = await get(Tag.JPEGTables);
  const directory: Omit<TiffDirectory, "loadChunks"> = {
    label,
    offset,
    width,
    height,
    tiled,
    chunkWidth: tiled ? (tileWidth ?? 0) : width,
    chunkHeight: tiled ? (tileHeight ?? 0) : rowsPerStrip,
    compression: firstNumber(await get(Tag.Compression)) ?? 1,
    photometric: firstNumber(await get(Tag.Photometric)) ?? 2,
    samplesPerPixel,
    bitsPerSample: numberList(await get(Tag.BitsPerSample)),
    planarConfiguration,
    predictor: firstNumber(await get(Tag.Predictor)) ?? 1,
    sampleFormat: firstNumber(await get(Tag.SampleFormat)) ?? 1,
    newSubfileType: firstNumber(await get(Tag.NewSubfileType)) ?? 0,
    description: text(await get(Tag.ImageDescription)),
    software: text(await get(Tag.Software)),
    xResolution: rational(await get(Tag.XResolution)),
    yResolution: rational(await get(Tag.YResolution)),
    resolutionUnit: firstNumber(await get(Tag.ResolutionUnit)) ?? 2,
    jpegTables: jpegTablesValue ? Uint8Array.from(numberList(jpegTablesValue)) : undefined,
    subIfds,
    hasNdpiTag: ifd.hasTag(Tag.NdpiFormatFlag),
    hasXmp: ifd.hasTag(Tag.XMP),
  };
  checkGeometry(source.name, directory);
  let chunks: Promise<ChunkTable> | undefined;
  return {
    ...directory,
    loadChunks() {
      chunks ??= loadChunkTable(source.name, file.size, ifd, directory);
      return chunks;
    },
  };
}

function checkGeometry(name: string, d: Omit<TiffDirectory, "loadChunks">): void {
  const where = `${name}: ${d.label}`;
  if (!Number.isInteger(d.width) || !Number.isInteger(d.height) || d.width < 1 || d.height < 1) {
    throw new WsiError("CORRUPT", `${where} has no valid image size (${d.width} × ${d.height}).`);
  }
  if (d.width > limits.maxImageSide || d.height > limits.maxImageSide) {
    throw new WsiError("TOO_LARGE", `${where} claims ${d.width} × ${d.height} pixels, more than the ${limits.maxImageSide} px per side this engine accepts.`);
  }
  if (
    d.chunkWidth < 1 ||
    d.chunkHeight < 1 ||
    d.chunkWidth > limits.maxImageSide ||
    (d.tiled && (d.chunkWidth > limits.maxTileSide || d.chunkHeight > limits.maxTileSide))
  ) {
    throw new WsiError(d.tiled ? "TOO_LARGE" : "CORRUPT", `${where} has an unusable ${d.tiled ? "tile" : "strip"} size ${d.chunkWidth} × ${d.chunkHeight}.`);
  }
}

async function loadChunkTable(name: string, fileSize: number, ifd: ImageFileDirectory, d: Omit<TiffDirectory, "loadChunks">): Promise<ChunkTable> {
  const across = Math.ceil(d.width / d.chunkWidth);
  const down = Math.ceil(d.height / d.chunkHeight);
  const planes = d.planarConfiguration === 2 ? d.samplesPerPixel : 1;
  const expected = across * down * planes;
  if (expected > limits.maxChunksPerImage) {
    throw new WsiError("TOO_LARGE", `${name}: ${d.label} would have ${expected} tiles; refusing.`);
  }
  try {
    const offsets = numberList(await ifd.loadValue(d.tiled ? Tag.TileOffsets : Tag.StripOffsets));
    const byteCounts = numberList(await ifd.loadValue(d.tiled ? Tag.TileByteCounts : Tag.StripByteCounts));
    if (offsets.length < expected || byteCounts.length < expected) {
      throw new WsiError(
        "CORRUPT",
        `${name}: ${d.label} lists ${Math.min(offsets.length, byteCounts.length)} ${d.tiled ? "tiles" : "strips"} but its size needs ${expected}.`,
      );
    }
    for (let i = 0; i < expected; i++) {
      const end = offsets[i]! + byteCounts[i]!;
      if (byteCounts[i]! > limits.maxChunkBytes) {
        throw new WsiError("TOO_LARGE", `${name}: ${d.label} has a ${byteCounts[i]}-byte tile; refusing.`);
      }
      if (end > fileSize) {
        throw new WsiError(
          "TRUNCATED",
          `${name}: ${d.label} has image data up to byte ${end} but the file ends at byte ${fileSize}; it is truncated (incomplete copy or upload). Copy it again.`,
        );
      }
    }
    return { across, down, offsets, byteCounts };
  } catch (error) {
    throw toWsiError(error, "CORRUPT", `${name}: ${d.label} tile table`);
  }
}

/**
 * Reads a TIFF's directory chain (and one level of SubIFDs, where OME-TIFF and libvips keep
 * pyramid levels) through geotiff, refusing loops, forged counts and out-of-file offsets.
 */
export async function readTiff(source: ByteSource): Promise<TiffFile> {
  const size = await source.size();
  if (size < 16) throw new WsiError("NOT_A_TIFF", `${source.name}: only ${size} byte${size === 1 ? "" : "s"} long; not a slide file.`);
  const header = await source.read(0, Math.min(size, 4));
  const magic = Buffer.from(header.subarray(0, 4)).toString("latin1");
  if (magic !== "II*\0" && magic !== "MM\0*" && magic !== "II+\0" && magic !== "MM\0+") {
    throw new WsiError("NOT_A_TIFF", `${source.name}: is not a TIFF-based slide (no TIFF header). Supported: Aperio SVS, pyramidal TIFF, OME-TIFF.`);
  }
  let tiff: GeoTIFF;
  try {
    tiff = await GeoTIFF.fromSource(toGeotiffSource(source, size) as never);
  } catch (error) {
    throw toWsiError(error, "NOT_A_TIFF", `${source.name}: TIFF header`);
  }
  const file = { size, bigTiff: tiff.bigTiff, le: tiff.littleEndian };
  const seen = new Set<number>();
  const parse = async (offset: number, label: string) => {
    if (seen.has(offset)) {
      throw new WsiError("CORRUPT", `${source.name}: the directory chain loops back to byte ${offset}; the file is damaged.`);
    }
    if (seen.size >= limits.maxDirectories) {
      throw new WsiError("TOO_LARGE", `${source.name}: more than ${limits.maxDirectories} image directories; refusing.`);
    }
    seen.add(offset);
    await checkEntryTable(source, file, offset, label);
    try {
      return await tiff.parser.parseFileDirectoryAt(offset);
    } catch (error) {
      throw toWsiError(error, "CORRUPT", `${source.name}: ${label}`);
    }
  };

  const directories: TiffDirectory[] = [];
  let offset: number = tiff.firstIFDOffset;
  while (offset !== 0) {
    const label = `ifd ${directories.length}`;
    const ifd = await parse(offset, label);
    const subIfds: TiffDirectory[] = [];
    if (ifd.hasTag(Tag.SubIFDs)) {
      const subOffsets = numberList(await ifd.loadValue(Tag.SubIFDs));
      if (subOffsets.length > limits.maxSubIfdsPerDirectory) {
        throw new WsiError("TOO_LARGE", `${source.name}: ${label} lists ${subOffsets.length} sub-images; refusing.`);
      }
      for (const [i, subOffset] of subOffsets.entries()) {
        const subLabel = `${label} / subifd ${i}`;
        const sub = await parse(subOffset, subLabel);
        subIfds.push(
          await describeDirectory(source, file, sub, subOffset, subLabel, []).catch((e: unknown) => {
            throw toWsiError(e, "CORRUPT", `${source.name}: ${subLabel}`);
          }),
        );
      }
    }
    directories.push(
      await describeDirectory(source, file, ifd, offset, label, subIfds).catch((e: unknown) => {
        throw toWsiError(e, "CORRUPT", `${source.name}: ${label}`);
      }),
    );
    offset = ifd.nextIFDByteOffset;
  }
  if (directories.length === 0) throw new WsiError("CORRUPT", `${source.name}: the TIFF has no image directory.`);
  return { littleEndian: tiff.littleEndian, bigTiff: tiff.bigTiff, size, directories };
}
