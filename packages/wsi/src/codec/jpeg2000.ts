/// <reference path="./openjpeg.d.ts" />
import { WsiError } from "../errors";
import type { RgbImage } from "../image";

// OpenJPEG compiled to WebAssembly (@cornerstonejs/codec-openjpeg): no native build, runs
// wherever Node runs. Decoding is synchronous inside the module (bench/codec has its cost).

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned: boolean;
  isUsingColorTransform?: boolean;
}
interface Decoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  decodeSubResolution(level: number, layer: number): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  calculateSizeAtDecompositionLevel(level: number): { width: number; height: number };
  getNumDecompositions(): number;
  delete?(): void;
}
interface Encoder {
  getDecodedBuffer(info: FrameInfo): Uint8Array;
  encode(): void;
  getEncodedBuffer(): Uint8Array;
  setQuality(lossless: boolean, quality: number): void;
  setCompressionRatio(layer: number, ratio: number): void;
  delete?(): void;
}
interface OpenJpegModule {
  J2KDecoder: new () => Decoder;
  J2KEncoder: new () => Encoder;
}

let loading: Promise<{ module: OpenJpegModule; decoder: Decoder }> | undefined;

function load() {
  loading ??= (async () => {
    const factory = (await import("@cornerstonejs/codec-openjpeg/wasmjs")).default as unknown as (options: object) => Promise<OpenJpegModule>;
    // OpenJPEG logs every header it reads; keep the CLI's output clean.
    const module = await factory({ print: () => {}, printErr: () => {} });
    return { module, decoder: new module.J2KDecoder() };
  })().catch((error: unknown) => {
    loading = undefined;
    throw new WsiError("IO_ERROR", `the JPEG 2000 decoder (OpenJPEG WebAssembly) could not be loaded: ${String(error)}. Reinstall dependencies (npm ci).`, {
      cause: error,
    });
  });
  return loading;
}

/** A JP2 file wraps the codestream in boxes; tiles and DICOM frames are usually the bare codestream. */
function codestreamOf(bytes: Uint8Array): Uint8Array {
  if (bytes[0] === 0xff && bytes[1] === 0x4f) return bytes;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 8 <= view.length) {
    let length = view.readUInt32BE(at);
    const type = view.toString("latin1", at + 4, at + 8);
    let header = 8;
    if (length === 1 && at + 16 <= view.length) {
      length = Number(view.readBigUInt64BE(at + 8));
      header = 16;
    }
    if (length === 0) length = view.length - at;
    if (type === "jp2c") return bytes.subarray(at + header, at + length);
    if (length < header) break;
    at += length;
  }
  throw new WsiError("CORRUPT", "a JPEG 2000 tile has neither a codestream nor a JP2 codestream box; the file is damaged.");
}

/** YCbCr (full range, as JPEG 2000's irreversible colour transform defines it) to RGB, in place. */
function ycbcrToRgb(data: Uint8Array): void {
  for (let i = 0; i + 2 < data.length; i += 3) {
    const y = data[i]!,
      cb = data[i + 1]! - 128,
      cr = data[i + 2]! - 128;
    data[i] = clamp(y + 1.402 * cr);
    data[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
    data[i + 2] = clamp(y + 1.772 * cb);
  }
}
const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

export interface Jpeg2000DecodeOptions {
  /** "ycbcr": the codestream holds Y, Cb, Cr without a colour transform (Aperio 33003, DICOM YBR_ICT without MCT). */
  colour: "rgb" | "ycbcr";
  /** Decode at 1/2^reduce resolution (cheaper: fewer wavelet levels). */
  reduce?: number;
}

/** Decodes one JPEG 2000 codestream (or JP2) of 8-bit grey, RGB or RGBA samples to packed RGB. */
export async function decodeJpeg2000(bytes: Uint8Array, options: Jpeg2000DecodeOptions): Promise<RgbImage> {
  const { module, decoder: shared } = await load();
  const codestream = codestreamOf(bytes);
  let decoder = shared;
  try {
    decoder.getEncodedBuffer(codestream.length).set(codestream);
    if (options.reduce) decoder.decodeSubResolution(options.reduce, 0);
    else decoder.decode();
  } catch (error) {
    // A failed decode may leave the instance in any state: later tiles get a fresh one.
    decoder = new module.J2KDecoder();
    loading = Promise.resolve({ module, decoder });
    throw new WsiError(
      "CORRUPT",
      `a JPEG 2000 tile could not be decoded (${error instanceof Error ? error.message : "OpenJPEG error"}); the file is damaged.`,
      { cause: error },
    );
  }
  const info = decoder.getFrameInfo();
  const size = options.reduce ? decoder.calculateSizeAtDecompositionLevel(options.reduce) : info;
  if (info.bitsPerSample !== 8 || info.isSigned) {
    throw new WsiError(
      "UNSUPPORTED_FORMAT",
      `a JPEG 2000 tile has ${info.isSigned ? "signed " : ""}${info.bitsPerSample}-bit samples; only 8-bit brightfield slides are supported.`,
    );
  }
  const samples = info.componentCount;
  const pixels = size.width * size.height;
  const decoded = decoder.getDecodedBuffer();
  if (decoded.length < pixels * samples) throw new WsiError("CORRUPT", "a JPEG 2000 tile decoded to fewer samples than its size; the file is damaged.");
  const data = Buffer.allocUnsafe(pixels * 3);
  if (samples === 3) {
    data.set(decoded.subarray(0, pixels * 3));
    if (options.colour === "ycbcr") ycbcrToRgb(data);
  } else if (samples === 1 || samples === 4) {
    for (let i = 0; i < pixels; i++) {
      const from = i * samples;
      data[i * 3] = decoded[from]!;
      data[i * 3 + 1] = decoded[samples === 1 ? from : from + 1]!;
      data[i * 3 + 2] = decoded[samples === 1 ? from : from + 2]!;
    }
  } else {
    throw new WsiError("UNSUPPORTED_FORMAT", `a JPEG 2000 tile has ${samples} components; only grey, RGB and RGBA are supported.`);
  }
  return { width: size.width, height: size.height, data };
}

export interface Jpeg2000EncodeOptions {
  /** Compression ratio of the single quality layer (lossy, irreversible wavelet); 0 = lossless. */
  ratio?: number;
  /**
   * Store Y, Cb, Cr without a colour transform flag (Aperio 33003): the encoder's own
   * irreversible colour transform is applied, then the COD marker says "no transform", so a
   * decoder hands back the YCbCr planes.
   */
  ycbcr?: boolean;
}

/** Encodes packed RGB as a JPEG 2000 codestream: for test slides and DICOM output. */
export async function encodeJpeg2000(image: RgbImage, options: Jpeg2000EncodeOptions = {}): Promise<Uint8Array> {
  return encodeWith((await load()).module, image, options);
}

/** The encoder as a synchronous function, once the module is loaded (writers that encode in a loop). */
export async function loadJpeg2000Encoder(): Promise<(image: RgbImage, options?: Jpeg2000EncodeOptions) => Uint8Array> {
  const { module } = await load();
  return (image, options = {}) => encodeWith(module, image, options);
}

function encodeWith(module: OpenJpegModule, image: RgbImage, options: Jpeg2000EncodeOptions): Uint8Array {
  const encoder = new module.J2KEncoder();
  try {
    const input = encoder.getDecodedBuffer({
      width: image.width,
      height: image.height,
      bitsPerSample: 8,
      componentCount: 3,
      isSigned: false,
      isUsingColorTransform: true,
    });
    input.set(image.data.subarray(0, image.width * image.height * 3));
    const ratio = options.ratio ?? 10;
    encoder.setQuality(ratio === 0, 0);
    if (ratio > 0) encoder.setCompressionRatio(0, ratio);
    encoder.encode();
    const out = Uint8Array.prototype.slice.call(encoder.getEncodedBuffer());
    if (options.ycbcr) clearColourTransform(out);
    return out;
  } finally {
    encoder.delete?.();
  }
}

/** Sets the multiple-component-transform byte of the main header's COD segment to 0. */
function clearColourTransform(codestream: Uint8Array): void {
  for (let at = 2; at + 9 < codestream.length; ) {
    if (codestream[at] !== 0xff) break;
    const marker = codestream[at + 1]!;
    if (marker === 0x52) {
      codestream[at + 8] = 0;
      return;
    } // COD: Lcod(2) Scod(1) order(1) layers(2) MCT(1)
    if (marker === 0x90) break; // first tile-part: main header over
    at += 2 + ((codestream[at + 2]! << 8) | codestream[at + 3]!);
  }
  throw new Error("JPEG 2000 encoder wrote no COD segment");
}
