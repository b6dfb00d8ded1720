import { open } from "node:fs/promises";
import { encodeJpeg } from "../codec/jpeg";
import { tissuePixel } from "./tiff-writer";

/**
 * Writes a BigTIFF of any size in seconds: one level, 256 px JPEG tiles whose offsets cycle
 * through a pool of distinct textured tiles. The engine still decodes, shrinks and encodes
 * every tile of every level, so memory and time behave as for a real slide of that size.
 */
export async function writeRepeatingSlide(path: string, width: number, height: number, options: { poolSize?: number; micronsPerPixel?: number } = {}): Promise<void> {
  const poolSize = options.poolSize ?? 97;
  const tile = 256;
  const across = Math.ceil(width / tile);
  const down = Math.ceil(height / tile);
  const pool: Buffer[] = [];
  for (let i = 0; i < poolSize; i++) {
    const data = Buffer.allocUnsafe(tile * tile * 3);
    const ox = (i * 7919) % 5000;
    const oy = (i * 104729) % 5000;
    for (let y = 0; y < tile; y++) {
      for (let x = 0; x < tile; x++) data.set(tissuePixel(ox + x, oy + y), (y * tile + x) * 3);
    }
    pool.push(await encodeJpeg({ width: tile, height: tile, data }, 85));
  }
  // Glass around the tissue: a blank tile, used outside a lobed outline so the slide has a shape.
  pool.push(await encodeJpeg({ width: tile, height: tile, data: Buffer.alloc(tile * tile * 3, 244) }, 85));
  const glass = pool.length - 1;
  const insideTissue = (col: number, row: number) => {
    const x = (col / across) * 2 - 1;
    const y = (row / down) * 2 - 1;
    const lobes = 0.75 + 0.15 * Math.sin(Math.atan2(y, x) * 5) + 0.05 * Math.sin(col * 0.3) * Math.cos(row * 0.2);
    return x * x + y * y < lobes * lobes;
  };
  const header = Buffer.alloc(16);
  header.write("II", 0, "latin1");
  header.writeUInt16LE(43, 2);
  header.writeUInt16LE(8, 4);
  const poolOffsets: number[] = [];
  let at = 16;
  for (const jpeg of pool) {
    poolOffsets.push(at);
    at += jpeg.length;
  }
  const count = across * down;
  const offsetsAt = at;
  const countsAt = offsetsAt + count * 8;
  const ifdAt = countsAt + count * 4;
  const offsets = Buffer.alloc(count * 8);
  const counts = Buffer.alloc(count * 4);
  for (let i = 0; i < count; i++) {
    const k = insideTissue(i % across, Math.floor(i / across)) ? (i * 31 + Math.floor(i / across) * 17) % poolSize : glass;
    offsets.writeBigUInt64LE(BigInt(poolOffsets[k]!), i * 8);
    counts.writeUInt32LE(pool[k]!.length, i * 4);
  }
  // tag, type, count, value (inline) — sorted by tag.
  const entries: [number, number, number, number][] = [
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, 3, 0], // filled below: 8,8,8 fits inline in BigTIFF
    [259, 3, 1, 7],
    [262, 3, 1, 6],
    [277, 3, 1, 3],
    [284, 3, 1, 1],
    ...(options.micronsPerPixel
      ? ([
          [282, 5, 1, 0],
          [283, 5, 1, 0],
          [296, 3, 1, 3],
        ] as [number, number, number, number][])
      : []),
    [322, 3, 1, tile],
    [323, 3, 1, tile],
    [324, 16, count, offsetsAt],
    [325, 4, count, countsAt],
  ];
  entries.sort((a, b) => a[0] - b[0]); // TIFF requires ascending tags
  const ifd = Buffer.alloc(8 + entries.length * 20 + 8);
  ifd.writeBigUInt64LE(BigInt(entries.length), 0);
  entries.forEach(([tag, type, n, value], i) => {
    const e = 8 + i * 20;
    ifd.writeUInt16LE(tag, e);
    ifd.writeUInt16LE(type, e + 2);
    ifd.writeBigUInt64LE(BigInt(n), e + 4);
    if (tag === 258) [8, 8, 8].forEach((v, j) => ifd.writeUInt16LE(v, e + 12 + j * 2));
    else if (type === 5) {
      // Pixels per centimetre as a rational, inline (BigTIFF values hold 8 bytes).
      ifd.writeUInt32LE(Math.round(10_000_000 / options.micronsPerPixel!), e + 12);
      ifd.writeUInt32LE(1000, e + 16);
    }
    else if (type === 3 && n === 1) ifd.writeUInt16LE(value, e + 12);
    else if (type === 4 && n === 1) ifd.writeUInt32LE(value, e + 12);
    else ifd.writeBigUInt64LE(BigInt(value), e + 12);
  });
  header.writeBigUInt64LE(BigInt(ifdAt), 8);
  const file = await open(path, "w");
  try {
    await file.write(header);
    for (const jpeg of pool) await file.write(jpeg);
    await file.write(offsets);
    await file.write(counts);
    await file.write(ifd);
  } finally {
    await file.close();
  }
}
