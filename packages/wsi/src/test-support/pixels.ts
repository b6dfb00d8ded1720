import { readFile } from "node:fs/promises";
import { decodeJpeg } from "../codec/jpeg";
import type { RgbImage } from "../image";

export function psnr(a: RgbImage, b: RgbImage): number {
  if (a.width !== b.width || a.height !== b.height) throw new Error(`size differs: ${a.width}×${a.height} vs ${b.width}×${b.height}`);
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = a.data[i]! - b.data[i]!;
    sum += d * d;
  }
  const mse = sum / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

export async function readJpegFile(path: string): Promise<RgbImage> {
  return decodeJpeg(await readFile(path));
}

/** Ground truth of a region at a downsample, averaging the pixel function over each block. */
export function renderRegion(
  pixel: (x: number, y: number) => [number, number, number],
  x0: number,
  y0: number,
  width: number,
  height: number,
  scale = 1,
  full?: { width: number; height: number },
): RgbImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let r = 0,
        g = 0,
        b = 0,
        n = 0;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const sx = (x0 + x) * scale + dx;
          const sy = (y0 + y) * scale + dy;
          if (full && (sx >= full.width || sy >= full.height)) continue;
          const p = pixel(sx, sy);
          r += p[0];
          g += p[1];
          b += p[2];
          n++;
        }
      }
      const at = (y * width + x) * 3;
      data[at] = Math.round(r / n);
      data[at + 1] = Math.round(g / n);
      data[at + 2] = Math.round(b / n);
    }
  }
  return { width, height, data };
}
