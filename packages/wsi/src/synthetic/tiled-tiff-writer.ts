import { open } from "node:fs/promises";

/**
 * Streams a one-level, JPEG-tiled BigTIFF to disk: tiles are appended as they are made and may
 * share bytes (the same offset for identical tiles), the tile tables and the directory go last.
 * Memory stays at the tables (12 bytes per tile) whatever the slide's size.
 */
export interface TiledTiffWriter {
  /** Appends JPEG bytes; returns their offset, to be given to `setTile` (once or many times). */
  append(jpeg: Uint8Array): Promise<number>;
  setTile(index: number, offset: number, length: number): void;
  /** Writes the tables and the directory; the file is complete when this resolves. */
  finish(): Promise<void>;
  abort(): Promise<void>;
}

export async function createTiledTiffWriter(
  path: string,
  image: { width: number; height: number; tileSize: number; micronsPerPixel?: number },
): Promise<TiledTiffWriter> {
  const { width, height, tileSize } = image;
  const count = Math.ceil(width / tileSize) * Math.ceil(height / tileSize);
  const offsets = Buffer.alloc(count * 8);
  const counts = Buffer.alloc(count * 4);
  const file = await open(path, "w");
  let at = 16;
  let closed = false;
  return {
    async append(jpeg) {
      const offset = at;
      await file.write(jpeg, 0, jpeg.length, offset);
      at += jpeg.length;
      return offset;
    },
    setTile(index, offset, length) {
      offsets.writeBigUInt64LE(BigInt(offset), index * 8);
      counts.writeUInt32LE(length, index * 4);
    },
    async finish() {
      const offsetsAt = at;
      const countsAt = offsetsAt + offsets.length;
      const ifdAt = countsAt + counts.length;
      await file.write(offsets, 0, offsets.length, offsetsAt);
      await file.write(counts, 0, counts.length, countsAt);
      const ifd = bigTiffDirectory({ ...image, count, offsetsAt, countsAt });
      await file.write(ifd, 0, ifd.length, ifdAt);
      const header = Buffer.alloc(16);
      header.write("II", 0, "latin1");
      header.writeUInt16LE(43, 2); // BigTIFF
      header.writeUInt16LE(8, 4);
      header.writeBigUInt64LE(BigInt(ifdAt), 8);
      await file.write(header, 0, 16, 0);
      closed = true;
      await file.close();
    },
    async abort() {
      if (!closed) await file.close();
      closed = true;
    },
  };
}

/** One BigTIFF directory (RGB, JPEG, tiled), values inline; no next directory. */
export function bigTiffDirectory(d: {
  width: number;
  height: number;
  tileSize: number;
  micronsPerPixel?: number;
  count: number;
  offsetsAt: number;
  countsAt: number;
}): Buffer {
  // [tag, type, count, value]; type 3 SHORT, 4 LONG, 5 RATIONAL, 16 LONG8.
  const entries: [number, number, number, number][] = [
    [256, 4, 1, d.width],
    [257, 4, 1, d.height],
    [258, 3, 3, 8], // 8,8,8 fits inline in BigTIFF
    [259, 3, 1, 7],
    [262, 3, 1, 6],
    [277, 3, 1, 3],
    [284, 3, 1, 1],
    ...(d.micronsPerPixel
      ? ([
          [282, 5, 1, 0],
          [283, 5, 1, 0],
          [296, 3, 1, 3],
        ] as [number, number, number, number][])
      : []),
    [322, 3, 1, d.tileSize],
    [323, 3, 1, d.tileSize],
    [324, 16, d.count, d.offsetsAt],
    [325, 4, d.count, d.countsAt],
  ];
  entries.sort((a, b) => a[0] - b[0]); // TIFF requires ascending tags
  const ifd = Buffer.alloc(8 + entries.length * 20 + 8);
  ifd.writeBigUInt64LE(BigInt(entries.length), 0);
  entries.forEach(([tag, type, n, value], i) => {
    const e = 8 + i * 20;
    ifd.writeUInt16LE(tag, e);
    ifd.writeUInt16LE(type, e + 2);
    ifd.writeBigUInt64LE(BigInt(n), e + 4);
    if (tag === 258) {
      [8, 8, 8].forEach((v, j) => {
        ifd.writeUInt16LE(v, e + 12 + j * 2);
      });
    } else if (type === 5) {
      // Pixels per centimetre as a rational.
      ifd.writeUInt32LE(Math.round(10_000_000 / d.micronsPerPixel!), e + 12);
      ifd.writeUInt32LE(1000, e + 16);
    } else if (type === 3 && n === 1) ifd.writeUInt16LE(value, e + 12);
    else if (type === 4 && n === 1) ifd.writeUInt32LE(value, e + 12);
    else ifd.writeBigUInt64LE(BigInt(value), e + 12);
  });
  return ifd;
}
