import { inflateSync } from "node:zlib";
import { getDecoder } from "geotiff";
import { WsiError } from "../errors";
import type { RgbImage } from "../image";
import type { TiffDirectory } from "../tiff/directory";
import { Compression, describeCompression } from "../tiff/tags";
import { decodeJpeg, makeStandaloneJpeg } from "./jpeg";
import { decodeJpeg2000 } from "./jpeg2000";

/** Compressions whose tiles this engine decodes; the rest answer "unsupported". */
const decodable = new Set<number>([
  Compression.None,
  Compression.Lzw,
  Compression.Jpeg,
  Compression.AdobeDeflate,
  Compression.Deflate,
  Compression.PackBits,
  Compression.Jp2kYcbcr,
  Compression.Jp2kRgb,
]);

export function checkDecodable(name: string, d: TiffDirectory): void {
  if (!decodable.has(d.compression)) {
    const kind = describeCompression(d.compression);
    throw new WsiError(
      "UNSUPPORTED_COMPRESSION",
      `${name}: ${d.label} uses ${kind} compression, which is not supported; convert the slide with JPEG compression (e.g. with QuPath or vips) and publish that.`,
    );
  }
  const bits = d.bitsPerSample.length ? d.bitsPerSample : [8];
  if (bits.some((b) => b !== 8) || d.sampleFormat !== 1) {
    throw new WsiError("UNSUPPORTED_FORMAT", `${name}: ${d.label} has ${bits.join("/")}-bit samples; only 8-bit brightfield slides are supported.`);
  }
  if (d.samplesPerPixel !== 1 && d.samplesPerPixel !== 3 && d.samplesPerPixel !== 4) {
    throw new WsiError("UNSUPPORTED_FORMAT", `${name}: ${d.label} has ${d.samplesPerPixel} samples per pixel; only grey, RGB and RGBA are supported.`);
  }
  if (d.planarConfiguration !== 1 && d.samplesPerPixel > 1) {
    throw new WsiError("UNSUPPORTED_FORMAT", `${name}: ${d.label} stores colour planes separately; not supported.`);
  }
  if (
    d.compression !== Compression.Jpeg &&
    !isJpeg2000(d.compression) &&
    d.photometric !== 1 &&
    d.photometric !== 2 &&
    !(d.photometric === 0 && d.samplesPerPixel === 1)
  ) {
    throw new WsiError("UNSUPPORTED_FORMAT", `${name}: ${d.label} uses photometric interpretation ${d.photometric}; not supported.`);
  }
}

const isJpeg2000 = (compression: number) => compression === Compression.Jp2kYcbcr || compression === Compression.Jp2kRgb;

/** Expands grey or RGBA to RGB; MinIsWhite grey is inverted. */
function toRgb(pixels: Uint8Array, width: number, height: number, samples: number, photometric: number): Buffer {
  if (samples === 3) return Buffer.from(pixels.buffer, pixels.byteOffset, width * height * 3);
  const out = Buffer.allocUnsafe(width * height * 3);
  const n = width * height;
  for (let i = 0; i < n; i++) {
    if (samples === 1) {
      const v = photometric === 0 ? 255 - pixels[i]! : pixels[i]!;
      out[i * 3] = v;
      out[i * 3 + 1] = v;
      out[i * 3 + 2] = v;
    } else {
      out[i * 3] = pixels[i * samples]!;
      out[i * 3 + 1] = pixels[i * samples + 1]!;
      out[i * 3 + 2] = pixels[i * samples + 2]!;
    }
  }
  return out;
}

/**
 * Decodes one tile or strip to RGB at the chunk's full size (chunkWidth × rows), where rows is
 * the chunk height, or fewer for the last strip of an image.
 */
export async function decodeChunk(d: TiffDirectory, bytes: Uint8Array, rows: number, into?: Buffer): Promise<RgbImage> {
  const width = d.chunkWidth;
  if (d.compression === Compression.Jpeg) {
    const fits = into && into.length >= width * rows * 3 ? into : undefined;
    const image = await decodeJpeg(makeStandaloneJpeg(bytes, d.jpegTables, d.photometric), fits);
    if (image.width < width || image.height < rows) {
      throw new WsiError("CORRUPT", `${d.label}: a JPEG tile is ${image.width} × ${image.height}, smaller than the ${width} × ${rows} the file declares.`);
    }
    return image;
  }
  if (isJpeg2000(d.compression)) {
    // Aperio: 33003 holds Y, Cb, Cr without the codestream's colour transform; 33005 is RGB.
    const image = await decodeJpeg2000(bytes, { colour: d.compression === Compression.Jp2kYcbcr ? "ycbcr" : "rgb" });
    if (image.width < width || image.height < rows) {
      throw new WsiError("CORRUPT", `${d.label}: a JPEG 2000 tile is ${image.width} × ${image.height}, smaller than the ${width} × ${rows} the file declares.`);
    }
    return image;
  }
  const samples = d.samplesPerPixel;
  const expected = width * rows * samples;
  let raw: Uint8Array;
  try {
    if (d.compression === Compression.None) {
      raw = bytes;
    } else if (d.compression === Compression.AdobeDeflate || d.compression === Compression.Deflate) {
      raw = inflateSync(bytes, { maxOutputLength: Math.max(expected, 1) });
      if (d.predictor !== 1) raw = await applyGeotiffDecoder(d, Compression.None, raw, rows);
    } else {
      raw = await applyGeotiffDecoder(d, d.compression, bytes, rows);
    }
  } catch (error) {
    if (error instanceof WsiError) throw error;
    throw new WsiError("CORRUPT", `${d.label}: a ${describeCompression(d.compression)} tile could not be decoded; the file is damaged.`, { cause: error });
  }
  if (raw.length < expected) {
    throw new WsiError("CORRUPT", `${d.label}: a tile decoded to ${raw.length} bytes, ${expected} expected; the file is damaged.`);
  }
  return { width, height: rows, data: toRgb(raw, width, rows, samples, d.photometric) };
}

async function applyGeotiffDecoder(d: TiffDirectory, compression: number, bytes: Uint8Array, rows: number): Promise<Uint8Array> {
  const decoder = await getDecoder(compression, {
    tileWidth: d.chunkWidth,
    tileHeight: rows,
    planarConfiguration: d.planarConfiguration,
    bitsPerSample: d.bitsPerSample.length ? d.bitsPerSample : [8],
    predictor: d.predictor,
  } as never);
  const copy = Uint8Array.prototype.slice.call(bytes);
  const out = await decoder.decode(copy.buffer as ArrayBuffer);
  return new Uint8Array(out as ArrayBuffer);
}
