import { open } from "node:fs/promises";
import { encodeJpeg } from "../codec/jpeg";
import { bigTiffDirectory } from "../synthetic/tiled-tiff-writer";
import { tissuePixel } from "./tiff-writer";

/**
 * Writes a BigTIFF of any size in seconds: one level, 256 px JPEG tiles whose offsets cycle
 * through a pool of distinct textured tiles. The engine still decodes, shrinks and encodes
 * every tile of every level, so memory and time behave as for a real slide of that size.
 */
export async function writeRepeatingSlide(
  path: string,
  width: number,
  height: number,
  options: { poolSize?: number; micronsPerPixel?: number } = {},
): Promise<void> {
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
  const ifd = bigTiffDirectory({ width, height, tileSize: tile, micronsPerPixel: options.micronsPerPixel, count, offsetsAt, countsAt });
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
