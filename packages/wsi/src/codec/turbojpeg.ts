import koffi from "koffi";
import { WsiError } from "../errors";
import { codecsBlock } from "./jpeg";

/**
 * libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0, called through koffi) for what the
 * N-API binding lacks: decoding at 1/2, 1/4 or 1/8 scale in the IDCT (DCT scaling) straight
 * into a region of a larger buffer (row pitch). A tile one Deep Zoom level below a stored level
 * is then four reduced decodes into one buffer: no full-size pixels, no shrink loop, no copy.
 * Optional at run time: without the library, callers fall back to a full decode and a box shrink.
 */

type Handle = unknown;
/** tjDecompress2's arguments: handle, JPEG and its size, destination, width, row pitch, height, pixel format, flags. */
type DecompressArgs = [
  h: Handle,
  jpeg: Uint8Array,
  size: number,
  into: Uint8Array,
  width: number,
  pitch: number,
  height: number,
  format: number,
  flags: number,
];
interface Api {
  initDecompress(): Handle | null;
  decompress: ((...args: DecompressArgs) => number) & {
    async: (...args: [...DecompressArgs, done: (error: unknown, result: number) => void]) => void;
  };
  errorOf(h: Handle): string;
  initCompress(): Handle | null;
  decompressToPlanes(h: Handle, jpeg: Uint8Array, size: number, planes: Uint8Array[], width: number, strides: number[], height: number, flags: number): number;
  compressFromPlanes(
    h: Handle,
    planes: Uint8Array[],
    width: number,
    strides: number[],
    height: number,
    subsampling: number,
    out: [unknown],
    outSize: [number],
    quality: number,
    flags: number,
  ): number;
  alloc(bytes: number): unknown;
  free(pointer: unknown): void;
  bufferSize(width: number, height: number, subsampling: number): number;
  initTransform(): Handle | null;
  transform(h: Handle, jpeg: Uint8Array, size: number, n: number, out: [unknown], outSize: [number], transforms: Transform[], flags: number): number;
}
/** tjtransform: a region (x, y, w, h), the operation, its options, and no custom filter. */
interface Transform {
  r: { x: number; y: number; w: number; h: number };
  op: number;
  options: number;
  data: null;
  customFilter: null;
}

const TJPF_RGB = 0;
/** The fast integer IDCT, as the N-API binding (codec/jpeg.ts) decodes: the same pixels either way. */
const TJFLAG_FASTDCT = 2048;
/** Calls queued or running in koffi at once (its own limit is 256); the rest wait here. */
const maxInFlight = 32;

let api: Api | null | undefined;
const idle: Handle[] = [];
let inFlight = 0;
const waiting: (() => void)[] = [];

function loadApi(): Api | null {
  if (api !== undefined) return api;
  try {
    const lib = koffi.load("libturbojpeg.so.0");
    const handle = koffi.pointer(koffi.opaque("tjhandle_"));
    api = {
      initDecompress: lib.func("tjInitDecompress", handle, []),
      decompress: lib.func("tjDecompress2", "int", [handle, "const uint8_t *", "unsigned long", "uint8_t *", "int", "int", "int", "int", "int"]),
      errorOf: lib.func("tjGetErrorStr2", "const char *", [handle]),
      initCompress: lib.func("tjInitCompress", handle, []),
      decompressToPlanes: lib.func("tjDecompressToYUVPlanes", "int", [handle, "const uint8_t *", "unsigned long", "uint8_t **", "int", "int *", "int", "int"]),
      compressFromPlanes: lib.func("tjCompressFromYUVPlanes", "int", [
        handle,
        "const uint8_t **",
        "int",
        "const int *",
        "int",
        "int",
        koffi.inout(koffi.pointer("void *")),
        koffi.inout(koffi.pointer("unsigned long")),
        "int",
        "int",
      ]),
      alloc: lib.func("tjAlloc", "void *", ["int"]),
      free: lib.func("tjFree", "void", ["void *"]),
      bufferSize: lib.func("tjBufSize", "unsigned long", ["int", "int", "int"]),
      initTransform: lib.func("tjInitTransform", handle, []),
      transform: lib.func("tjTransform", "int", [
        handle,
        "const uint8_t *",
        "unsigned long",
        "int",
        koffi.inout(koffi.pointer("void *")),
        koffi.inout(koffi.pointer("unsigned long")),
        koffi.pointer(
          koffi.struct("tjtransform", {
            r: koffi.struct("tjregion", { x: "int", y: "int", w: "int", h: "int" }),
            op: "int",
            options: "int",
            data: "void *",
            customFilter: "void *",
          }),
        ),
        "int",
      ]),
    } as unknown as Api;
  } catch {
    api = null;
  }
  return api;
}

/** Whether reduced-scale decoding is available on this machine (libturbojpeg.so.0 loads). */
export function hasScaledJpegDecode(): boolean {
  return loadApi() !== null;
}

function borrowHandle(lib: Api): Handle {
  const handle = idle.pop() ?? lib.initDecompress();
  if (!handle) throw new WsiError("IO_ERROR", "libjpeg-turbo could not start a decoder (out of memory?).");
  return handle;
}

/**
 * A JPEG's size in pixels from its frame header (SOFn), read in JavaScript: no decoder call, as
 * cheap as the marker scan it is. CORRUPT when the header segments end before a frame header.
 */
export function readJpegSize(jpeg: Uint8Array): { width: number; height: number } {
  if (jpeg[0] === 0xff && jpeg[1] === 0xd8) {
    let at = 2;
    while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
      const marker = jpeg[at + 1]!;
      if (marker === 0xda || marker === 0xd9) break;
      if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
        if (at + 9 > jpeg.length) break;
        const height = (jpeg[at + 5]! << 8) | jpeg[at + 6]!;
        const width = (jpeg[at + 7]! << 8) | jpeg[at + 8]!;
        if (width < 1 || height < 1) break;
        return { width, height };
      }
      at += 2 + ((jpeg[at + 2]! << 8) | jpeg[at + 3]!);
    }
  }
  throw new WsiError("CORRUPT", "a JPEG tile has no readable frame header; the file is damaged.");
}

/**
 * Decodes `jpeg` at 1/`divisor` of its size (1, or 2, 4 or 8: libjpeg-turbo scales in the IDCT) as
 * RGB into `into` from byte `offset`, rows `pitch` bytes apart: a region of a larger image. The
 * caller has checked the JPEG's size (readJpegSize) so the region fits. Runs on a pool thread, or
 * on this thread once useBlockingCodecs() is on (a quarter tile's decode is a fraction of a
 * millisecond: the hop to a pool thread and back costs a fifth of it in CPU). `fast`: the fast
 * integer IDCT.
 */
export async function decodeJpegScaledInto(
  jpeg: Uint8Array,
  divisor: 1 | 2 | 4 | 8,
  into: Buffer,
  offset: number,
  pitch: number,
  size: { width: number; height: number },
  options: { fast?: boolean } = {},
): Promise<void> {
  const lib = loadApi();
  if (!lib) throw new WsiError("INVALID_OPTIONS", "reduced-scale JPEG decoding needs the Debian package libturbojpeg0.");
  const width = Math.ceil(size.width / divisor);
  const height = Math.ceil(size.height / divisor);
  if (offset < 0 || pitch < width * 3 || offset + (height - 1) * pitch + width * 3 > into.length) {
    throw new WsiError("INVALID_OPTIONS", "the scaled JPEG does not fit in the buffer given for it.");
  }
  const flags = options.fast ? TJFLAG_FASTDCT : 0;
  const target = into.subarray(offset);
  // Any warning (truncated data, a bad Huffman code) is an error, as for the full decode.
  const failed = (handle: Handle) => new WsiError("CORRUPT", `a JPEG tile could not be decoded (${lib.errorOf(handle)}); the file is damaged.`);
  if (codecsBlock()) {
    const handle = borrowHandle(lib);
    try {
      if (lib.decompress(handle, jpeg, jpeg.length, target, width, pitch, height, TJPF_RGB, flags) !== 0) throw failed(handle);
      return;
    } finally {
      idle.push(handle);
    }
  }
  if (inFlight >= maxInFlight) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight++;
  const handle = borrowHandle(lib);
  try {
    const result = await new Promise<number>((resolve, reject) =>
      lib.decompress.async(handle, jpeg, jpeg.length, target, width, pitch, height, TJPF_RGB, flags, (error, code) => (error ? reject(error) : resolve(code))),
    );
    if (result !== 0) throw failed(handle);
  } finally {
    idle.push(handle);
    inFlight--;
    waiting.shift()?.();
  }
}

const TJSAMP_420 = 2;
const TJFLAG_NOREALLOC = 1024;

/**
 * Whether a JPEG is YCbCr 4:2:0 (Y sampled 2 × 2, Cb and Cr 1 × 1), read from its header
 * segments as libjpeg guesses the colour space: a JFIF marker, an Adobe marker with transform 1,
 * or component ids 1, 2, 3 say YCbCr; an Adobe marker with transform 0 or ids "RGB" say RGB.
 */
export function isYcc420(jpeg: Uint8Array): boolean {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return false;
  let jfif = false;
  let adobe: number | undefined;
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    if (marker === 0xda || marker === 0xd9) return false;
    if (marker === 0xe0 && jpeg[at + 4] === 0x4a && jpeg[at + 5] === 0x46) jfif = true; // "JF"
    if (marker === 0xee && at + 15 < jpeg.length && jpeg[at + 4] === 0x41) adobe = jpeg[at + 15]; // "Adobe", transform
    // Baseline or extended Huffman frames only (SOF0, SOF1): what the decoder's planes path reads.
    if (marker === 0xc0 || marker === 0xc1) {
      if (at + 19 > jpeg.length || jpeg[at + 4] !== 8 || jpeg[at + 9] !== 3) return false;
      const ids = [jpeg[at + 10], jpeg[at + 13], jpeg[at + 16]];
      const sampling = [jpeg[at + 11], jpeg[at + 14], jpeg[at + 17]];
      if (sampling[0] !== 0x22 || sampling[1] !== 0x11 || sampling[2] !== 0x11) return false;
      if (adobe !== undefined) return adobe === 1;
      return jfif || (ids[0] === 1 && ids[1] === 2 && ids[2] === 3);
    }
    if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return false;
    at += 2 + ((jpeg[at + 2]! << 8) | jpeg[at + 3]!);
  }
  return false;
}

// Planes, a compressor and its output buffer for the synchronous path: one call at a time on a thread.
let planes = Buffer.alloc(0);
let compressor: Handle | undefined;
let output: { pointer: unknown; bytes: number } | undefined;

/**
 * One JPEG of `width` × `height` made of up to 2 × 2 YCbCr 4:2:0 JPEG tiles each decoded at half
 * size at (x, y): decoded into Y, Cb and Cr planes (the IDCT scales chroma straight to the
 * output's 4:2:0 grid) and encoded from them, so neither side converts colours nor resamples
 * chroma. For computed tiles below quality 90 (4:2:0, as encodeJpeg chooses), on this thread
 * only (useBlockingCodecs); undefined when that does not apply: the caller decodes to RGB.
 * Every tile must be YCbCr 4:2:0 (isYcc420) of twice the size of its place, x and y even.
 */
export function encodeHalvedYcc420(
  tiles: { jpeg: Uint8Array; x: number; y: number; width: number; height: number }[],
  width: number,
  height: number,
  quality: number,
): Buffer | undefined {
  const lib = codecsBlock() && quality < 90 && width % 2 === 0 && height % 2 === 0 ? loadApi() : null;
  if (!lib || tiles.some((t) => t.x % 2 || t.y % 2 || t.width % 2 || t.height % 2 || t.x + t.width > width || t.y + t.height > height)) return undefined;
  const chroma = (width / 2) * (height / 2);
  if (planes.length < width * height + 2 * chroma) planes = Buffer.alloc(width * height + 2 * chroma);
  const [y, cb, cr] = [planes.subarray(0, width * height), planes.subarray(width * height, width * height + chroma), planes.subarray(width * height + chroma)];
  const strides = [width, width / 2, width / 2];
  const handle = borrowHandle(lib);
  try {
    for (const t of tiles) {
      const at = (t.y / 2) * (width / 2) + t.x / 2;
      const into = [y.subarray(t.y * width + t.x), cb.subarray(at), cr.subarray(at)];
      if (lib.decompressToPlanes(handle, t.jpeg, t.jpeg.length, into, t.width, strides, t.height, 0) !== 0) {
        throw new WsiError("CORRUPT", `a JPEG tile could not be decoded (${lib.errorOf(handle)}); the file is damaged.`);
      }
    }
  } finally {
    idle.push(handle);
  }
  compressor ??= lib.initCompress() ?? undefined;
  if (!compressor) throw new WsiError("IO_ERROR", "libjpeg-turbo could not start an encoder (out of memory?).");
  const bytes = lib.bufferSize(width, height, TJSAMP_420);
  if (!output || output.bytes < bytes) {
    if (output) lib.free(output.pointer);
    output = { pointer: lib.alloc(bytes), bytes };
  }
  const size: [number] = [output.bytes];
  if (lib.compressFromPlanes(compressor, [y, cb, cr], width, strides, height, TJSAMP_420, [output.pointer], size, quality, TJFLAG_NOREALLOC) !== 0) {
    throw new WsiError("IO_ERROR", `libjpeg-turbo could not encode a tile (${lib.errorOf(compressor)}).`);
  }
  return copyOut(output.pointer, size[0]);
}

/**
 * `bytes` of native memory copied once into a Buffer of their own (`Buffer.from(new Uint8Array(view))`
 * copied twice: ≈ 20 KB more garbage per computed tile, and the GC it brings on sooner).
 */
function copyOut(pointer: unknown, bytes: number): Buffer {
  const copy = Buffer.allocUnsafe(bytes);
  copy.set(new Uint8Array(koffi.view(pointer as never, bytes)));
  return copy;
}

const TJXOP_NONE = 0;
const TJXOPT_CROP = 4;
let transformer: Handle | undefined;

/**
 * The top-left `width` × `height` of a baseline JPEG as a JPEG of that size, cut losslessly at the
 * entropy-coded level (tjTransform, no IDCT or DCT): a smallest level stored in a padded tile sent
 * as a thumbnail. The crop starts at (0, 0), so it is MCU-aligned; its right and bottom may end
 * inside an MCU (the blocks are kept whole, the frame header says the smaller size). Undefined
 * when the library is missing, or the JPEG is not baseline/extended Huffman with 8-bit samples of
 * 1 or 3 components (CMYK, progressive, lossless): the caller decodes and encodes instead.
 */
export function cropJpegLossless(jpeg: Uint8Array, width: number, height: number): Buffer | undefined {
  if (!isPlainBaseline(jpeg)) return undefined;
  const lib = loadApi();
  if (!lib) return undefined;
  transformer ??= lib.initTransform() ?? undefined;
  if (!transformer) return undefined;
  const out: [unknown] = [null];
  const size: [number] = [0];
  const region = { r: { x: 0, y: 0, w: width, h: height }, op: TJXOP_NONE, options: TJXOPT_CROP, data: null, customFilter: null };
  if (lib.transform(transformer, jpeg, jpeg.length, 1, out, size, [region], 0) !== 0) {
    if (out[0]) lib.free(out[0]);
    throw new WsiError("CORRUPT", `a JPEG tile could not be cropped (${lib.errorOf(transformer)}); the file is damaged.`);
  }
  try {
    return copyOut(out[0], size[0]);
  } finally {
    lib.free(out[0]);
  }
}

/** A baseline or extended Huffman JPEG (SOF0, SOF1) of 8-bit samples with 1 or 3 components. */
function isPlainBaseline(jpeg: Uint8Array): boolean {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return false;
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    if (marker === 0xda || marker === 0xd9) return false;
    if (marker === 0xc0 || marker === 0xc1) return at + 9 < jpeg.length && jpeg[at + 4] === 8 && (jpeg[at + 9] === 1 || jpeg[at + 9] === 3);
    if (marker >= 0xc2 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return false;
    at += 2 + ((jpeg[at + 2]! << 8) | jpeg[at + 3]!);
  }
  return false;
}
