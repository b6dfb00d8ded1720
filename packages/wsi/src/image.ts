/** 8-bit RGB pixels; rows packed unless `stride` (pixels per row in `data`) says otherwise. */
export interface RgbImage {
  width: number;
  height: number;
  data: Buffer;
  stride?: number;
}

/** Copies a rectangle out of an image (packed or strided) into a new packed image. */
export function cropImage(image: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  const out = Buffer.allocUnsafe(width * height * 3);
  const rowBytes = width * 3;
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * (image.stride ?? image.width) + x) * 3;
    image.data.copy(out, row * rowBytes, from, from + rowBytes);
  }
  return { width, height, data: out };
}

/** Halves an image with a 2×2 box filter (the last odd row or column averages what exists). */
export function halveImage(image: RgbImage): RgbImage {
  const width = Math.ceil(image.width / 2);
  const height = Math.ceil(image.height / 2);
  const out = Buffer.allocUnsafe(width * height * 3);
  const stride = image.width * 3;
  for (let y = 0; y < height; y++) {
    const top = 2 * y * stride;
    const bottom = 2 * y + 1 < image.height ? top + stride : top;
    shrinkRowPair(image.data, top, bottom, image.width, out, y * width * 3);
  }
  return { width, height, data: out };
}

/**
 * Averages two source rows 2×2 into one output row of ceil(width / 2) pixels. Written as a flat
 * loop over bytes: the hottest JavaScript in pyramid building.
 */
export function shrinkRowPair(src: Uint8Array, top: number, bottom: number, width: number, out: Uint8Array, outAt: number): void {
  const pairs = width >> 1;
  let s = 0;
  let o = outAt;
  for (let i = 0; i < pairs; i++, s += 6, o += 3) {
    out[o] = (src[top + s]! + src[top + s + 3]! + src[bottom + s]! + src[bottom + s + 3]! + 2) >> 2;
    out[o + 1] = (src[top + s + 1]! + src[top + s + 4]! + src[bottom + s + 1]! + src[bottom + s + 4]! + 2) >> 2;
    out[o + 2] = (src[top + s + 2]! + src[top + s + 5]! + src[bottom + s + 2]! + src[bottom + s + 5]! + 2) >> 2;
  }
  if (width & 1) {
    out[o] = (src[top + s]! + src[bottom + s]! + 1) >> 1;
    out[o + 1] = (src[top + s + 1]! + src[bottom + s + 1]! + 1) >> 1;
    out[o + 2] = (src[top + s + 2]! + src[bottom + s + 2]! + 1) >> 1;
  }
}
