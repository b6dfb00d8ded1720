/** What a JPEG's header says about how it is coded: what DICOM needs to label its frames. */
export interface JpegHeaderInfo {
  /** Start-of-frame marker: 0xc0 baseline, 0xc1 extended, 0xc2 progressive, … */
  sof: number;
  precision: number;
  width: number;
  height: number;
  components: number;
  /** Horizontal and vertical sampling factor of each component. */
  sampling: [number, number][];
  /** Colour model: RGB-coded (Adobe transform 0 or component ids R, G, B) or YCbCr. */
  colour: "rgb" | "ycbcr" | "grey";
}

/** Reads the header segments up to the frame header; undefined when it is not a JPEG. */
export function readJpegHeader(jpeg: Uint8Array): JpegHeaderInfo | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) return undefined;
  let adobeTransform: number | undefined;
  let jfif = false;
  let at = 2;
  while (at + 4 <= jpeg.length) {
    if (jpeg[at] !== 0xff) return undefined;
    const marker = jpeg[at + 1]!;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    const length = (jpeg[at + 2]! << 8) | jpeg[at + 3]!;
    const body = at + 4;
    if (body + length - 2 > jpeg.length) return undefined;
    if (marker === 0xe0 && length >= 7 && String.fromCharCode(...jpeg.subarray(body, body + 4)) === "JFIF") jfif = true;
    if (marker === 0xee && length >= 14 && String.fromCharCode(...jpeg.subarray(body, body + 5)) === "Adobe") adobeTransform = jpeg[body + 11];
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      const components = jpeg[body + 5]!;
      const ids: number[] = [];
      const sampling: [number, number][] = [];
      for (let i = 0; i < components; i++) {
        ids.push(jpeg[body + 6 + i * 3]!);
        const factors = jpeg[body + 7 + i * 3]!;
        sampling.push([factors >> 4, factors & 15]);
      }
      const rgbIds = ids.length === 3 && ids[0] === 0x52 && ids[1] === 0x47 && ids[2] === 0x42;
      const colour = components === 1 ? "grey" : adobeTransform === 0 || (!jfif && adobeTransform === undefined && rgbIds) ? "rgb" : "ycbcr";
      return {
        sof: marker,
        precision: jpeg[body]!,
        height: (jpeg[body + 1]! << 8) | jpeg[body + 2]!,
        width: (jpeg[body + 3]! << 8) | jpeg[body + 4]!,
        components,
        sampling,
        colour,
      };
    }
    if (marker === 0xda) return undefined; // scan before any frame header
    at = body + length - 2;
  }
  return undefined;
}

/** DICOM PhotometricInterpretation of a JPEG baseline frame (PS3.5 8.2.1). */
export function photometricOfJpeg(info: JpegHeaderInfo): "RGB" | "YBR_FULL" | "YBR_FULL_422" | "MONOCHROME2" {
  if (info.colour === "grey") return "MONOCHROME2";
  if (info.colour === "rgb") return "RGB";
  const [luma, ...chroma] = info.sampling;
  const subsampled = chroma.some(([h, v]) => h !== luma![0] || v !== luma![1]);
  return subsampled ? "YBR_FULL_422" : "YBR_FULL";
}
