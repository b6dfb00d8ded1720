import { existsSync } from "node:fs";
import { mkdir, rename } from "node:fs/promises";
import { dirname } from "node:path";
import sharp from "sharp";

/**
 * A large H&E-like test slide: pink stroma of varying density, purple nuclei, white gaps and
 * full-resolution grain, written as a 256 px JPEG-tiled BigTIFF pyramid by libvips (the layout
 * `vips tiffsave --tile --pyramid` writes). Texture, not flat colour, so JPEG has real work.
 */
export async function makeSlide(path: string, width: number, height: number): Promise<void> {
  if (existsSync(path)) return;
  await mkdir(dirname(path), { recursive: true });
  const scale = 4; // base texture drawn at 1/4 size, then upsampled
  const bw = Math.ceil(width / scale);
  const bh = Math.ceil(height / scale);
  const base = Buffer.allocUnsafe(bw * bh * 3);
  const hash = (x: number, y: number) => {
    let h = (x * 374761393 + y * 668265263) | 0;
    h = Math.imul(h ^ (h >>> 13), 1274126177);
    return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  };
  // Smooth value noise for tissue density (large scale) and nuclei (small cells).
  const valueNoise = (x: number, y: number, cell: number, seed: number) => {
    const gx = Math.floor(x / cell);
    const gy = Math.floor(y / cell);
    const fx = x / cell - gx;
    const fy = y / cell - gy;
    const sx = fx * fx * (3 - 2 * fx);
    const sy = fy * fy * (3 - 2 * fy);
    const a = hash(gx + seed, gy);
    const b = hash(gx + 1 + seed, gy);
    const c = hash(gx + seed, gy + 1);
    const d = hash(gx + 1 + seed, gy + 1);
    return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
  };
  for (let y = 0; y < bh; y++) {
    for (let x = 0; x < bw; x++) {
      const density = 0.6 * valueNoise(x, y, 400, 0) + 0.3 * valueNoise(x, y, 90, 7) + 0.1 * valueNoise(x, y, 20, 3);
      const fibres = 0.5 + 0.5 * Math.sin(x * 0.09 + 6 * valueNoise(x, y, 60, 11));
      // Nuclei: a jittered grid of small dark blobs where there is tissue.
      const cx = Math.floor(x / 9);
      const cy = Math.floor(y / 9);
      const nx = cx * 9 + 2 + hash(cx, cy) * 5;
      const ny = cy * 9 + 2 + hash(cy, cx + 5) * 5;
      const r2 = (x - nx) ** 2 + (y - ny) ** 2;
      const nucleus = density > 0.5 && hash(cx + 13, cy + 17) < 0.45 && r2 < 5 ? 1 - r2 / 6 : 0;
      const tissue = Math.max(0, Math.min(1, (density - 0.35) * 3));
      const at = (y * bw + x) * 3;
      const r = 245 - tissue * (25 + 25 * fibres) - nucleus * 130;
      const g = 243 - tissue * (95 + 40 * fibres) - nucleus * 150;
      const b = 246 - tissue * (40 + 20 * fibres) - nucleus * 60;
      base[at] = Math.max(0, r);
      base[at + 1] = Math.max(0, g);
      base[at + 2] = Math.max(0, b);
    }
  }
  const grainSize = 509; // prime: the grain's repeat never lines up with 256 px tiles
  const grain = Buffer.allocUnsafe(grainSize * grainSize * 3);
  for (let i = 0; i < grain.length; i += 3) {
    const v = 128 + Math.round((hash(i, 91) + hash(i, 17) - 1) * 70);
    grain[i] = v;
    grain[i + 1] = v;
    grain[i + 2] = v;
  }
  const grainPng = await sharp(grain, { raw: { width: grainSize, height: grainSize, channels: 3 } }).png().toBuffer();
  const partial = `${path}.partial`;
  await sharp(base, { raw: { width: bw, height: bh, channels: 3 }, limitInputPixels: false })
    .resize(width, height, { kernel: "cubic" })
    .composite([{ input: grainPng, tile: true, blend: "soft-light" }])
    .tiff({ tile: true, tileWidth: 256, tileHeight: 256, pyramid: true, compression: "jpeg", quality: 85, bigtiff: true })
    .toFile(partial);
  await rename(partial, path);
}
