import jpegTurbo from "@julusian/jpeg-turbo";
import { WsiError } from "../errors";
import type { RgbImage } from "../image";

// libjpeg-turbo through N-API: ~0.15 ms to decode and ~0.1 ms to encode a 256 px tile, against
// ~0.6 ms for sharp and ~3 ms / ~28 ms for jpeg-js (bench/codec). The async calls run on the
// libuv thread pool, which is how tiling uses both cores from one JavaScript thread.

let blocking = false;

/**
 * Makes this thread's JPEG decoding and encoding run on the thread itself instead of the libuv
 * thread pool: for worker threads that each read their own slides (a backlog), and for a server
 * whose processes already keep every core busy (the tile service with a process per core),
 * where a hop to the shared pool and back costs a good part of a 256 px tile's work. Not for a
 * single server process on a machine with cores to spare: the pool is what uses them.
 */
export function useBlockingCodecs(on = true): void {
  blocking = on;
}

/** Whether this thread's codecs run on the thread itself (useBlockingCodecs). */
export function codecsBlock(): boolean {
  return blocking;
}

const ADOBE_RGB_MARKER = Uint8Array.from([0xff, 0xee, 0x00, 0x0e, 0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00]);

function hasColourMarker(jpeg: Uint8Array): boolean {
  // Scan the header segments up to the first frame or scan header.
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    if (marker === 0xe0 || marker === 0xee) return true;
    if (marker === 0xda || (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc)) return false;
    at += 2 + ((jpeg[at + 2]! << 8) | jpeg[at + 3]!);
  }
  return false;
}

/**
 * Makes a TIFF JPEG tile a JPEG file a browser or decoder reads on its own: splices in the
 * shared JPEGTables, and for RGB-coded data (Aperio) adds an Adobe marker saying "no colour
 * transform" — without it decoders assume YCbCr and show wrong colours.
 */
export function makeStandaloneJpeg(tile: Uint8Array, tables: Uint8Array | undefined, photometric: number): Uint8Array {
  if (tile.length < 4 || tile[0] !== 0xff || tile[1] !== 0xd8) {
    throw new WsiError("CORRUPT", "a JPEG tile does not start with a JPEG header; the file is damaged.");
  }
  const useTables = tables && tables.length > 4 ? tables.subarray(2, tables.length - 2) : undefined; // drop SOI and EOI
  const body = tile.subarray(2);
  const needsMarker = photometric === 2 && !hasColourMarker(tile);
  if (!useTables && !needsMarker) return tile; // already standalone: no copy
  const parts: Uint8Array[] = [tile.subarray(0, 2)];
  if (needsMarker) parts.push(ADOBE_RGB_MARKER);
  if (useTables) parts.push(useTables);
  parts.push(body);
  return Buffer.concat(parts);
}

/** Decodes to packed RGB; `into`, when large enough, receives the pixels (no allocation on the hot path). */
export async function decodeJpeg(jpeg: Uint8Array, into?: Buffer): Promise<RgbImage> {
  try {
    const input = Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength);
    const options = { format: jpegTurbo.FORMAT_RGB };
    const out = blocking
      ? into
        ? jpegTurbo.decompressSync(input, into, options)
        : jpegTurbo.decompressSync(input, options)
      : into
        ? await jpegTurbo.decompress(input, into, options)
        : await jpegTurbo.decompress(input, options);
    return { width: out.width, height: out.height, data: out.data };
  } catch (error) {
    throw new WsiError("CORRUPT", `a JPEG tile could not be decoded (${error instanceof Error ? error.message : String(error)}); the file is damaged.`, {
      cause: error,
    });
  }
}

export function decodeJpegSync(jpeg: Uint8Array): RgbImage {
  try {
    const out = jpegTurbo.decompressSync(Buffer.from(jpeg.buffer, jpeg.byteOffset, jpeg.byteLength), { format: jpegTurbo.FORMAT_RGB });
    return { width: out.width, height: out.height, data: out.data };
  } catch (error) {
    throw new WsiError("CORRUPT", `a JPEG image could not be decoded (${error instanceof Error ? error.message : String(error)}); the file is damaged.`, {
      cause: error,
    });
  }
}

/** Worst-case output buffers, reused: the binding would otherwise allocate one per call (~200 KB for a 256 px tile). */
const spareOutputs: Buffer[] = [];

/**
 * Encodes packed or strided RGB (a tile read in place from a larger row buffer: no copy).
 * 4:2:0 below quality 90, 4:4:4 above: the same choice libvips makes, so sizes compare.
 * `subsampled` asks for 4:2:2 at any quality: DICOM WSI admits YCbCr JPEG only as YBR_FULL_422.
 * The result is a copy of exactly the JPEG's bytes, so a cache holding it holds no more.
 */
export async function encodeJpeg(image: RgbImage, quality: number, options: { subsampled?: boolean } = {}): Promise<Buffer> {
  const subsampling = options.subsampled ? jpegTurbo.SAMP_422 : quality >= 90 ? jpegTurbo.SAMP_444 : jpegTurbo.SAMP_420;
  const size = jpegTurbo.bufferSize({ width: image.width, height: image.height, subsampling });
  let out = spareOutputs.pop();
  if (!out || out.length < size) out = Buffer.allocUnsafe(size);
  try {
    const input = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
    const settings = { format: jpegTurbo.FORMAT_RGB, width: image.width, height: image.height, stride: image.stride ?? image.width, quality, subsampling };
    const encoded = blocking ? jpegTurbo.compressSync(input, out, settings) : await jpegTurbo.compress(input, out, settings);
    return Buffer.from(encoded);
  } finally {
    if (spareOutputs.length < 64) spareOutputs.push(out);
  }
}
