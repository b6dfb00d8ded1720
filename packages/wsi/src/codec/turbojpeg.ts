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
interface Api {
  initDecompress(): Handle | null;
  decompress: {
    (h: Handle, jpeg: Uint8Array, size: number, into: Uint8Array, width: number, pitch: number, height: number, format: number, flags: number): number;
    async: (
      h: Handle,
      jpeg: Uint8Array,
      size: number,
      into: Uint8Array,
      width: number,
      pitch: number,
      height: number,
      format: number,
      flags: number,
      done: (error: unknown, result: number) => void,
    ) => void;
  };
  errorOf(h: Handle): string;
}

const TJPF_RGB = 0;
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
 * Decodes `jpeg` at 1/`divisor` of its size (2, 4 or 8; libjpeg-turbo scales in the IDCT) as RGB
 * into `into` from byte `offset`, rows `pitch` bytes apart: a region of a larger image. The caller
 * has checked the JPEG's size (readJpegSize) so the region fits. Runs on a worker thread, or on
 * this thread once useBlockingCodecs() is on (a quarter tile's decode is a fraction of a
 * millisecond: the hop to a worker and back costs a fifth of it in CPU).
 */
export async function decodeJpegScaledInto(
  jpeg: Uint8Array,
  divisor: 2 | 4 | 8,
  into: Buffer,
  offset: number,
  pitch: number,
  size: { width: number; height: number },
): Promise<void> {
  const lib = loadApi();
  if (!lib) throw new WsiError("INVALID_OPTIONS", "reduced-scale JPEG decoding needs the Debian package libturbojpeg0.");
  const width = Math.ceil(size.width / divisor);
  const height = Math.ceil(size.height / divisor);
  if (offset < 0 || pitch < width * 3 || offset + (height - 1) * pitch + width * 3 > into.length) {
    throw new WsiError("INVALID_OPTIONS", "the scaled JPEG does not fit in the buffer given for it.");
  }
  // Any warning (truncated data, a bad Huffman code) is an error, as for the full decode.
  const failed = (handle: Handle) => new WsiError("CORRUPT", `a JPEG tile could not be decoded (${lib.errorOf(handle)}); the file is damaged.`);
  if (codecsBlock()) {
    const handle = borrowHandle(lib);
    try {
      if (lib.decompress(handle, jpeg, jpeg.length, into.subarray(offset), width, pitch, height, TJPF_RGB, 0) !== 0) throw failed(handle);
      return;
    } finally {
      idle.push(handle);
    }
  }
  if (inFlight >= maxInFlight) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight++;
  const handle = borrowHandle(lib);
  const target = into.subarray(offset);
  try {
    const result = await new Promise<number>((resolve, reject) =>
      lib.decompress.async(handle, jpeg, jpeg.length, target, width, pitch, height, TJPF_RGB, 0, (error, code) => (error ? reject(error) : resolve(code))),
    );
    if (result !== 0) throw failed(handle);
  } finally {
    idle.push(handle);
    inFlight--;
    waiting.shift()?.();
  }
}
