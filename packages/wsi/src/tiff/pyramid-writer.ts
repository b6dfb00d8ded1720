/**
 * The directories of a tiled JPEG BigTIFF pyramid: one IFD per level (largest first, chained)
 * with its out-of-line values, placed before the tile data (after the header) or after it. Their
 * size depends only on the levels' tile counts, so tile offsets are known once the tiles' sizes are.
 */
export interface PyramidLevelLayout {
  width: number;
  height: number;
  tileSize: number;
  /** JPEG chroma subsampling of the tiles: 2 for 4:2:0, 1 for 4:4:4. */
  subsampling: 1 | 2;
}

const SHORT = 3;
const LONG = 4;
const ASCII = 2;
const LONG8 = 16;
const SOFTWARE = "pathx derived pyramid\0";

interface Entry {
  tag: number;
  type: number;
  values: number[] | string;
}

function tileCount(level: PyramidLevelLayout): number {
  return Math.ceil(level.width / level.tileSize) * Math.ceil(level.height / level.tileSize);
}

function entriesOf(level: PyramidLevelLayout, index: number, offsets: ArrayLike<number>, counts: ArrayLike<number>): Entry[] {
  return [
    { tag: 254, type: LONG, values: [index === 0 ? 0 : 1] }, // reduced-resolution image below the first
    { tag: 256, type: LONG, values: [level.width] },
    { tag: 257, type: LONG, values: [level.height] },
    { tag: 258, type: SHORT, values: [8, 8, 8] },
    { tag: 259, type: SHORT, values: [7] }, // JPEG
    { tag: 262, type: SHORT, values: [6] }, // YCbCr, as the JFIF tiles say
    { tag: 277, type: SHORT, values: [3] },
    { tag: 284, type: SHORT, values: [1] },
    { tag: 305, type: ASCII, values: SOFTWARE },
    { tag: 322, type: LONG, values: [level.tileSize] },
    { tag: 323, type: LONG, values: [level.tileSize] },
    { tag: 324, type: LONG8, values: Array.from(offsets) },
    { tag: 325, type: LONG, values: Array.from(counts) },
    { tag: 530, type: SHORT, values: [level.subsampling, level.subsampling] },
  ];
}

const typeSize: Record<number, number> = { [SHORT]: 2, [LONG]: 4, [ASCII]: 1, [LONG8]: 8 };

function valueBytes(entry: Entry): number {
  return (typeof entry.values === "string" ? entry.values.length : entry.values.length) * typeSize[entry.type]!;
}

/** Bytes of every directory with its out-of-line values. */
export function pyramidDirectoriesSize(levels: PyramidLevelLayout[]): number {
  let size = 0;
  levels.forEach((level, index) => {
    const n = tileCount(level);
    const entries = entriesOf(level, index, new Array<number>(n).fill(0), new Array<number>(n).fill(0));
    size += 8 + entries.length * 20 + 8;
    for (const entry of entries) {
      const bytes = valueBytes(entry);
      if (bytes > 8) size += bytes + (bytes % 2);
    }
  });
  return size;
}

/** Bytes of the header and every directory: where the first tile goes when directories come first. */
export function pyramidPrologueSize(levels: PyramidLevelLayout[]): number {
  return 16 + pyramidDirectoriesSize(levels);
}

/** The 16-byte BigTIFF header pointing at the first directory. */
export function encodeBigTiffHeader(firstDirectory: number): Buffer {
  const out = Buffer.alloc(16);
  out.write("II", 0, "latin1");
  out.writeUInt16LE(43, 2); // BigTIFF
  out.writeUInt16LE(8, 4);
  out.writeBigUInt64LE(BigInt(firstDirectory), 8);
  return out;
}

/** The header and directories, given every tile's offset and size (per level, row by row). */
export function encodePyramidPrologue(levels: PyramidLevelLayout[], offsets: ArrayLike<number>[], counts: ArrayLike<number>[]): Buffer {
  return Buffer.concat([encodeBigTiffHeader(16), encodePyramidDirectories(levels, offsets, counts, 16)]);
}

/** The chained directories (largest level first) as they are to be placed at file offset `base`. */
export function encodePyramidDirectories(levels: PyramidLevelLayout[], offsets: ArrayLike<number>[], counts: ArrayLike<number>[], base: number): Buffer {
  const out = Buffer.alloc(pyramidDirectoriesSize(levels));
  let at = 0;
  levels.forEach((level, index) => {
    const entries = entriesOf(level, index, offsets[index]!, counts[index]!);
    const ifd = at;
    let extra = ifd + 8 + entries.length * 20 + 8;
    out.writeBigUInt64LE(BigInt(entries.length), ifd);
    entries.forEach((entry, i) => {
      const e = ifd + 8 + i * 20;
      const count = typeof entry.values === "string" ? entry.values.length : entry.values.length;
      out.writeUInt16LE(entry.tag, e);
      out.writeUInt16LE(entry.type, e + 2);
      out.writeBigUInt64LE(BigInt(count), e + 4);
      const bytes = valueBytes(entry);
      let valueAt = e + 12;
      if (bytes > 8) {
        out.writeBigUInt64LE(BigInt(base + extra), e + 12);
        valueAt = extra;
        extra += bytes + (bytes % 2);
      }
      if (typeof entry.values === "string") out.write(entry.values, valueAt, "latin1");
      else writeValues(out, valueAt, entry.type, entry.values);
    });
    const next = index + 1 < levels.length ? base + extra : 0;
    out.writeBigUInt64LE(BigInt(next), ifd + 8 + entries.length * 20);
    at = extra;
  });
  return out;
}

function writeValues(out: Buffer, at: number, type: number, values: number[]): void {
  const size = typeSize[type]!;
  values.forEach((value, i) => {
    if (size === 2) out.writeUInt16LE(value, at + i * 2);
    else if (size === 4) out.writeUInt32LE(value, at + i * 4);
    else out.writeBigUInt64LE(BigInt(value), at + i * 8);
  });
}

export { tileCount as pyramidTileCount };
