import jpegTurbo from "@julusian/jpeg-turbo";
import { open } from "node:fs/promises";
import { tissuePixel } from "./tiff-writer";

/**
 * A spec-faithful Hamamatsu NDPI writer for tests, shaped by what OpenSlide 3.4.1 demands:
 * classic little-endian TIFF with an 8-byte first-IFD and next-IFD offset, each directory
 * written after its data (readers restore the high offset bits from the directory's position)
 * and followed by the high words of its entries; each image one JPEG strip (RowsPerStrip =
 * ImageLength); large levels with restart markers every `restartInterval` MCUs, their
 * positions in McuStarts (65426, one per interval, relative to the strip) and 65432 (high
 * words); 65421 SourceLens (FLOAT) everywhere, 65422–65424 SLONG; SOF width/height 0 over 65 535.
 * Restart intervals are encoded one by one with libjpeg-turbo: with the same quality and
 * subsampling every interval shares one set of tables, and a standalone scan ends byte-aligned
 * exactly as an interval does before its RST marker.
 */
export interface NdpiLevelSpec {
  width: number;
  height: number;
  /** MCUs per restart interval; 0 writes a plain JPEG (small levels). */
  restartInterval: number;
  /** 4:2:2 (16 × 8 MCUs, the default) or 4:4:4 (8 × 8): OpenSlide needs 8-row MCUs. */
  subsampling?: "422" | "444";
}

export interface NdpiOptions {
  levels: NdpiLevelSpec[];
  macro?: { width: number; height: number };
  /** Writes the map image (SourceLens −2) that readers must ignore. */
  map?: boolean;
  /** RGB at level-0 coordinates; level k samples it at its own pixel × its downsample. */
  pixel?: (x: number, y: number) => [number, number, number];
  sourceLens?: number;
  micronsPerPixel?: number;
  quality?: number;
  /** A hole (sparse) before the image data: offsets past 4 GiB without writing 4 GiB. */
  gapBytes?: number;
  /** Leave McuStarts out (readers must scan for the markers). */
  omitMcuStarts?: boolean;
  properties?: Record<string, string>;
}

export interface WrittenNdpiImage {
  ifdOffset: number;
  stripOffset: number;
  byteCount: number;
  /** McuStarts as written (relative to the strip); empty without restart markers. */
  mcuStarts: number[];
  /** Absolute position of each entry (its 12 bytes) by tag. */
  entries: Map<number, number>;
}

export interface WrittenNdpi {
  size: number;
  images: WrittenNdpiImage[];
}

enum T {
  Short = 3,
  Long = 4,
  Ascii = 2,
  Rational = 5,
  Slong = 9,
  Float = 11,
}

type Entry = [tag: number, type: T, values: number[] | string];

function segmentsOf(jpeg: Buffer): { tables: Buffer; sof: Buffer; sos: Buffer; entropy: Buffer } {
  let at = 2;
  const tables: Buffer[] = [];
  let sof: Buffer | undefined;
  while (at < jpeg.length) {
    const marker = jpeg[at + 1]!;
    const length = jpeg.readUInt16BE(at + 2);
    const segment = jpeg.subarray(at, at + 2 + length);
    if (marker === 0xda)
      return { tables: Buffer.concat(tables), sof: Buffer.from(sof!), sos: segment, entropy: jpeg.subarray(at + 2 + length, jpeg.length - 2) };
    if (marker === 0xc0) sof = segment;
    else if (marker === 0xdb || marker === 0xc4) tables.push(segment);
    at += 2 + length;
  }
  throw new Error("test NDPI writer: libjpeg-turbo wrote no scan");
}

function render(pixel: NonNullable<NdpiOptions["pixel"]>, scale: number, x0: number, y0: number, w: number, h: number): Buffer {
  const data = Buffer.allocUnsafe(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(pixel((x0 + x) * scale, (y0 + y) * scale), (y * w + x) * 3);
  return data;
}

function encode(raw: Buffer, w: number, h: number, quality: number, subsampling: number): Buffer {
  return jpegTurbo.compressSync(raw, { format: jpegTurbo.FORMAT_RGB, width: w, height: h, quality, subsampling });
}

/**
 * One level as a restart-marked JPEG strip, and its McuStarts. `origin`: where the image starts
 * in the level's pixels (a Hamamatsu VMS slide is several such JPEGs side by side).
 */
export function restartJpeg(
  level: NdpiLevelSpec,
  pixel: NonNullable<NdpiOptions["pixel"]>,
  scale: number,
  quality: number,
  origin: [number, number] = [0, 0],
): { strip: Buffer; mcuStarts: number[] } {
  const mcuWidth = level.subsampling === "444" ? 8 : 16;
  const mcuHeight = 8;
  const intervalWidth = mcuWidth * level.restartInterval;
  if (level.width % intervalWidth || level.height % mcuHeight) {
    throw new Error(`test NDPI writer: a restart-marked level must be a multiple of ${intervalWidth} × ${mcuHeight} (OpenSlide 3.4.1 needs it)`);
  }
  const subsampling = level.subsampling === "444" ? jpegTurbo.SAMP_444 : jpegTurbo.SAMP_422;
  const parts: Buffer[] = [];
  let head: { tables: Buffer; sof: Buffer; sos: Buffer } | undefined;
  const across = level.width / intervalWidth;
  const down = level.height / mcuHeight;
  const mcuStarts: number[] = [];
  let length = 0;
  for (let row = 0; row < down; row++) {
    for (let col = 0; col < across; col++) {
      const s = segmentsOf(
        encode(
          render(pixel, scale, origin[0] + col * intervalWidth, origin[1] + row * mcuHeight, intervalWidth, mcuHeight),
          intervalWidth,
          mcuHeight,
          quality,
          subsampling,
        ),
      );
      if (!head) {
        head = s;
        const sof = Buffer.from(s.sof);
        sof.writeUInt16BE(level.height > 65_535 ? 0 : level.height, 5);
        sof.writeUInt16BE(level.width > 65_535 ? 0 : level.width, 7);
        const dri = Buffer.from([0xff, 0xdd, 0, 4, level.restartInterval >> 8, level.restartInterval & 255]);
        const header = Buffer.concat([Buffer.from([0xff, 0xd8]), s.tables, sof, dri, s.sos]);
        parts.push(header);
        length = header.length;
      } else if (!s.tables.equals(head.tables)) {
        throw new Error("test NDPI writer: libjpeg-turbo changed its tables between intervals");
      }
      const index = row * across + col;
      mcuStarts.push(length);
      const marker = Buffer.from([0xff, index === across * down - 1 ? 0xd9 : 0xd0 + (index % 8)]);
      parts.push(s.entropy, marker);
      length += s.entropy.length + 2;
    }
  }
  return { strip: Buffer.concat(parts), mcuStarts };
}

export function plainJpeg(width: number, height: number, pixel: NonNullable<NdpiOptions["pixel"]>, scale: number, quality: number): Buffer {
  return encode(render(pixel, scale, 0, 0, width, height), width, height, quality, jpegTurbo.SAMP_420);
}

/** Bytes of one value list in TIFF little-endian layout. */
function valueBytes(type: T, values: number[] | string): Buffer {
  if (typeof values === "string") return Buffer.from(`${values}\0`, "latin1");
  const size = type === T.Short ? 2 : type === T.Rational ? 8 : 4;
  const out = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (type === T.Short) out.writeUInt16LE(v, i * 2);
    else if (type === T.Long) out.writeUInt32LE(v % 2 ** 32, i * 4);
    else if (type === T.Slong) out.writeInt32LE(v, i * 4);
    else if (type === T.Float) out.writeFloatLE(v, i * 4);
    else {
      out.writeUInt32LE(Math.round(v * 1000), i * 8);
      out.writeUInt32LE(1000, i * 8 + 4);
    }
  });
  return out;
}

export async function writeNdpi(path: string, options: NdpiOptions): Promise<WrittenNdpi> {
  const pixel = options.pixel ?? tissuePixel;
  const quality = options.quality ?? 85;
  const lens = options.sourceLens ?? 20;
  const mpp = options.micronsPerPixel ?? 0.4558;
  const file = await open(path, "w");
  const images: WrittenNdpiImage[] = [];
  try {
    let at = 16 + (options.gapBytes ?? 0);
    let previousNext = 4; // where the offset of the next directory goes: the header first
    const put = async (bytes: Buffer) => {
      const where = at;
      await file.write(bytes, 0, bytes.length, where);
      at += bytes.length + (bytes.length % 2);
      return where;
    };
    const header = Buffer.alloc(16);
    header.write("II*\0", 0, "latin1");
    await file.write(header, 0, 16, 0);

    const writeImage = async (width: number, height: number, strip: Buffer, mcuStarts: number[], imageLens: number, scale: number, first: boolean) => {
      const stripOffset = await put(strip);
      const entries: Entry[] = [
        [256, T.Long, [width]],
        [257, T.Long, [height]],
        [258, T.Short, [8, 8, 8]],
        [259, T.Short, [7]],
        [262, T.Short, [6]],
        [271, T.Ascii, "Hamamatsu"],
        [272, T.Ascii, "C13210"],
        [273, T.Long, [stripOffset]],
        [274, T.Short, [1]],
        [277, T.Short, [3]],
        [278, T.Long, [height]],
        [279, T.Long, [strip.length]],
        [282, T.Rational, [10_000 / (mpp * scale)]],
        [283, T.Rational, [10_000 / (mpp * scale)]],
        [296, T.Short, [3]],
        [305, T.Ascii, "NDP.scan 3.2.15"],
        [306, T.Ascii, "2026:11:30 09:12:44"],
        [65420, T.Long, [1]],
        [65421, T.Float, [imageLens]],
        [65422, T.Slong, [-1_234_567]],
        [65423, T.Slong, [765_432]],
        [65424, T.Slong, [0]],
      ];
      if (mcuStarts.length > 0 && !options.omitMcuStarts) {
        entries.push([65426, T.Long, mcuStarts], [65432, T.Long, mcuStarts.map((s) => Math.floor(s / 2 ** 32))]);
      }
      entries.push([65427, T.Ascii, "S-26-04711 HE"]);
      if (first) {
        const map = { Created: "2026/11/30", Updated: "2026/11/30", "NDP.S/N": "400112", "Macro.Obj.Lens": "1.0", ...options.properties };
        entries.push([
          65449,
          T.Ascii,
          `${Object.entries(map)
            .map(([k, v]) => `${k}=${v}`)
            .join("\r\n")}\r\n`,
        ]);
      }
      entries.sort((a, b) => a[0] - b[0]);
      // Out-of-line values first, then the directory: both after the data they describe.
      const placed = [];
      for (const [tag, type, values] of entries) {
        const bytes = valueBytes(type, values);
        placed.push({ tag, type, count: typeof values === "string" ? bytes.length : values.length, bytes, offset: bytes.length > 4 ? await put(bytes) : -1 });
      }
      const ifd = Buffer.alloc(2 + placed.length * 12 + 8 + placed.length * 4);
      ifd.writeUInt16LE(placed.length, 0);
      const ifdOffset = at;
      const positions = new Map<number, number>();
      placed.forEach((p, i) => {
        const e = 2 + i * 12;
        positions.set(p.tag, ifdOffset + e);
        ifd.writeUInt16LE(p.tag, e);
        ifd.writeUInt16LE(p.type, e + 2);
        ifd.writeUInt32LE(p.count, e + 4);
        const value = p.offset >= 0 ? p.offset : p.tag === 273 ? stripOffset : -1;
        if (value >= 0) ifd.writeUInt32LE(value % 2 ** 32, e + 8);
        else p.bytes.copy(ifd, e + 8);
        ifd.writeUInt32LE(Math.floor(Math.max(value, 0) / 2 ** 32), 2 + placed.length * 12 + 8 + i * 4); // high word
      });
      await put(ifd);
      const link = Buffer.alloc(8);
      link.writeBigUInt64LE(BigInt(ifdOffset));
      await file.write(link, 0, 8, previousNext);
      previousNext = ifdOffset + 2 + placed.length * 12;
      images.push({ ifdOffset, stripOffset, byteCount: strip.length, mcuStarts, entries: positions });
    };

    for (const [index, level] of options.levels.entries()) {
      const scale = options.levels[0]!.width / level.width;
      if (level.restartInterval > 0) {
        const { strip, mcuStarts } = restartJpeg(level, pixel, scale, quality);
        await writeImage(level.width, level.height, strip, mcuStarts, lens, scale, index === 0);
      } else {
        await writeImage(level.width, level.height, plainJpeg(level.width, level.height, pixel, scale, quality), [], lens, scale, index === 0);
      }
    }
    if (options.macro) {
      const { width, height } = options.macro;
      const sticker = (x: number, y: number): [number, number, number] => (x < width / 3 ? [240, 200, 60] : tissuePixel(x * 8, y * 8));
      await writeImage(width, height, plainJpeg(width, height, sticker, 1, 90), [], -1, 1, false);
    }
    if (options.map)
      await writeImage(
        64,
        32,
        plainJpeg(64, 32, () => [90, 90, 90], 1, 90),
        [],
        -2,
        1,
        false,
      );
    return { size: at, images };
  } finally {
    await file.close();
  }
}
