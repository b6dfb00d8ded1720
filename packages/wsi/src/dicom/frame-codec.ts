import { decodeJpeg, makeStandaloneJpeg } from "../codec/jpeg";
import { decodeJpeg2000 } from "../codec/jpeg2000";
import { WsiError } from "../errors";
import type { RgbImage } from "../image";
import type { RawTile } from "../formats/level-reader";
import type { DicomInstance } from "./instance";

export const DicomTransferSyntax = {
  implicitLittle: "1.2.840.10008.1.2",
  explicitLittle: "1.2.840.10008.1.2.1",
  jpegBaseline: "1.2.840.10008.1.2.4.50",
  jpegExtended: "1.2.840.10008.1.2.4.51",
  jpeg2000Lossless: "1.2.840.10008.1.2.4.90",
  jpeg2000: "1.2.840.10008.1.2.4.91",
} as const;

export type FrameCoding = "jpeg" | "jpeg2000" | "none";

/** How an instance's frames are coded, or a clear refusal. */
export function frameCodingOf(instance: DicomInstance): FrameCoding {
  const name = instance.source.name;
  const ts = instance.transferSyntax;
  let coding: FrameCoding;
  if (ts === DicomTransferSyntax.jpegBaseline || ts === DicomTransferSyntax.jpegExtended) coding = "jpeg";
  else if (ts === DicomTransferSyntax.jpeg2000 || ts === DicomTransferSyntax.jpeg2000Lossless) coding = "jpeg2000";
  else if (ts === DicomTransferSyntax.explicitLittle || ts === DicomTransferSyntax.implicitLittle) coding = "none";
  else {
    throw new WsiError(
      "UNSUPPORTED_COMPRESSION",
      `${name}: its frames use DICOM transfer syntax ${ts || "(none)"}, which pathx does not decode (it reads JPEG baseline, JPEG 2000 and uncompressed frames).`,
    );
  }
  if (instance.bitsAllocated !== 8 || (instance.samplesPerPixel !== 3 && instance.samplesPerPixel !== 1)) {
    throw new WsiError(
      "UNSUPPORTED_COMPRESSION",
      `${name}: has ${instance.samplesPerPixel} samples of ${instance.bitsAllocated} bits per pixel; pathx reads 8-bit RGB and greyscale.`,
    );
  }
  return coding;
}

/** The frame as a browser-ready file (JPEG) or its stored bytes. */
export function rawFrame(instance: DicomInstance, coding: FrameCoding, bytes: Uint8Array): RawTile {
  if (coding !== "jpeg") return { kind: "other", bytes };
  // Fragments have even length: an odd JPEG carries a pad byte after its EOI marker.
  const n = bytes.length;
  if (n > 3 && bytes[n - 1] === 0 && bytes[n - 3] === 0xff && bytes[n - 2] === 0xd9) bytes = bytes.subarray(0, n - 1);
  // An RGB-coded JPEG without a marker saying so would be shown as YCbCr: add Adobe's.
  return { kind: "jpeg", bytes: makeStandaloneJpeg(bytes, undefined, instance.photometric === "RGB" ? 2 : 6) };
}

function clamp(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : Math.round(value);
}

/** Native frames to packed RGB: interleaved or planar RGB, YBR_FULL, or greyscale. */
function decodeNative(instance: DicomInstance, bytes: Uint8Array, into?: Buffer): RgbImage {
  const { tileWidth: width, tileHeight: height } = instance;
  const pixels = width * height;
  const out = into && into.length >= pixels * 3 ? into : Buffer.allocUnsafe(pixels * 3);
  if (instance.samplesPerPixel === 1) {
    const invert = instance.photometric === "MONOCHROME1";
    for (let i = 0; i < pixels; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = invert ? 255 - bytes[i]! : bytes[i]!;
  } else if (instance.planar === 1) {
    for (let i = 0; i < pixels; i++) {
      out[i * 3] = bytes[i]!;
      out[i * 3 + 1] = bytes[pixels + i]!;
      out[i * 3 + 2] = bytes[2 * pixels + i]!;
    }
  } else {
    out.set(bytes.subarray(0, pixels * 3));
  }
  if (instance.samplesPerPixel === 3 && instance.photometric === "YBR_FULL") {
    for (let i = 0; i < pixels * 3; i += 3) {
      const y = out[i]!;
      const cb = out[i + 1]! - 128;
      const cr = out[i + 2]! - 128;
      out[i] = clamp(y + 1.402 * cr);
      out[i + 1] = clamp(y - 0.344136 * cb - 0.714136 * cr);
      out[i + 2] = clamp(y + 1.772 * cb);
    }
  }
  return { width, height, data: out.subarray(0, pixels * 3) };
}

export async function decodeFrame(instance: DicomInstance, coding: FrameCoding, bytes: Uint8Array, into?: Buffer): Promise<RgbImage> {
  if (coding === "none") return decodeNative(instance, bytes, into);
  // JPEG 2000: YBR_ICT / YBR_RCT frames carry the codestream's own colour transform (undone by
  // OpenJPEG); YBR_FULL ones hold Y, Cb, Cr planes without it.
  const image =
    coding === "jpeg2000"
      ? await decodeJpeg2000(bytes, { colour: instance.photometric.startsWith("YBR_FULL") ? "ycbcr" : "rgb" })
      : await decodeJpeg(
          instance.photometric === "RGB" ? rawFrame(instance, coding, bytes).bytes : bytes,
          into && into.length >= instance.tileWidth * instance.tileHeight * 3 ? into : undefined,
        );
  if (image.width < instance.tileWidth || image.height < instance.tileHeight) {
    throw new WsiError(
      "CORRUPT",
      `${instance.source.name}: a frame decoded to ${image.width} × ${image.height}, not the ${instance.tileWidth} × ${instance.tileHeight} the header says.`,
    );
  }
  return image;
}
