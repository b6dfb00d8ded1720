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
  header: (h: Handle, jpeg: Uint8Array, size: number, width: [number], height: [number], subsampling: [number], colourspace: [number]) => number;
  decompress: ((
    h: Handle,
    jpeg: Uint8Array,
    size: number,
    into: Uint8Array,
    width: number,
    pitch: number,
    height: number,
    format: number,
    flags: number,
  ) => number) & {
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
      header: lib.func("tjDecompressHeader3", "int", [
        handle,
        "const uint8_t *",
        "unsigned long",
        koffi.inout(koffi.pointer("int")),
        koffi.inout(koffi.pointer("int")),
        koffi.inout(koffi.pointer("int")),
        koffi.inout(koffi.pointer("int")),
      ]),
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

/** Whether the header segments reach a frame header (SOFn) before a scan or the end. */
function hasFrame(jpeg: Uint8Array): boolean {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return false;
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) return true;
    if (marker === 0xda || marker === 0xd9) return false;
    at += 2 + ((jpeg[at + 2]! << 8) | jpeg[at + 3]!);
  }
  return false;
}

/** A JPEG's size in pixels from its header (no decoding); CORRUPT when the header is unreadable. */
export function readJpegSize(jpeg: Uint8Array): { width: number; height: number } {
  const lib = loadApi();
  if (!lib) throw new WsiError("INVALID_OPTIONS", "reduced-scale JPEG decoding needs the Debian package libturbojpeg0.");
  // TurboJPEG reads a tables-only stream (no frame) as a success with the previous image's size.
  if (!hasFrame(jpeg)) throw new WsiError("CORRUPT", "a JPEG tile has no frame header; the file is damaged.");
  const handle = borrowHandle(lib);
  try {
    const width: [number] = [0];
    const height: [number] = [0];
    if (lib.header(handle, jpeg, jpeg.length, width, height, [0], [0]) !== 0 || width[0] < 1 || height[0] < 1) {
      throw new WsiError("CORRUPT", `a JPEG tile's header could not be read (${lib.errorOf(handle)}); the file is damaged.`);
    }
    return { width: width[0], height: height[0] };
  } finally {
    idle.push(handle);
  }
}

/**
 * Decodes `jpeg` at 1/`divisor` of its size (1, or 2, 4 or 8: libjpeg-turbo scales in the IDCT) as
 * RGB into `into` from byte `offset`, rows `pitch` bytes apart: a region of a larger image. The
 * caller has checked the JPEG's size (readJpegSize) so the region fits. Runs on a pool thread, or
 * on this thread where codecs block (useBlockingCodecs). `fast`: the fast integer IDCT.
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
  if (codecsBlock()) {
    const handle = borrowHandle(lib);
    try {
      if (lib.decompress(handle, jpeg, jpeg.length, target, width, pitch, height, TJPF_RGB, flags) !== 0)
        throw new WsiError("CORRUPT", `a JPEG tile could not be decoded (${lib.errorOf(handle)}); the file is damaged.`);
    } finally {
      idle.push(handle);
    }
    return;
  }
  if (inFlight >= maxInFlight) await new Promise<void>((resolve) => waiting.push(resolve));
  inFlight++;
  const handle = borrowHandle(lib);
  try {
    const result = await new Promise<number>((resolve, reject) =>
      // Any warning (truncated data, a bad Huffman code) is an error, as for the full decode.
      lib.decompress.async(handle, jpeg, jpeg.length, target, width, pitch, height, TJPF_RGB, flags, (error, code) => (error ? reject(error) : resolve(code))),
    );
    if (result !== 0) throw new WsiError("CORRUPT", `a JPEG tile could not be decoded (${lib.errorOf(handle)}); the file is damaged.`);
  } finally {
    idle.push(handle);
    inFlight--;
    waiting.shift()?.();
  }
}
