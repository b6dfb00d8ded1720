import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import sharp from "sharp";
import type { RgbImage } from "../image";
import type { Slide } from "../slide";

const run = promisify(execFile);

/** OpenSlide's own view of a file (Debian openslide-tools): its properties, or its error. */
export async function openslideProperties(path: string): Promise<Record<string, string>> {
  const { stdout } = await run("openslide-show-properties", [path], { maxBuffer: 64 * 1024 * 1024 });
  const properties: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const match = /^([^:]+): '(.*)'$/.exec(line);
    if (match) properties[match[1]!] = match[2]!;
  }
  return properties;
}

/** A region as OpenSlide renders it (`openslide-write-png`; x, y in level-0 pixels), as RGB. */
export async function openslideRegion(path: string, level: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
  const dir = await mkdtemp(join(tmpdir(), "openslide-png-"));
  try {
    const png = join(dir, "region.png");
    await run("openslide-write-png", [path, String(x), String(y), String(level), String(width), String(height), png]);
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A region of one level assembled from this engine's tiles. */
export async function readSlideRegion(slide: Slide, level: number, x: number, y: number, width: number, height: number): Promise<RgbImage> {
  const l = slide.metadata.levels[level]!;
  const out = Buffer.alloc(width * height * 3);
  for (let row = Math.floor(y / l.tileHeight); row * l.tileHeight < y + height; row++) {
    for (let col = Math.floor(x / l.tileWidth); col * l.tileWidth < x + width; col++) {
      const tile = await slide.readTile(level, col, row);
      for (let ty = 0; ty < tile.height; ty++) {
        const oy = row * l.tileHeight + ty - y;
        if (oy < 0 || oy >= height) continue;
        for (let tx = 0; tx < tile.width; tx++) {
          const ox = col * l.tileWidth + tx - x;
          if (ox < 0 || ox >= width) continue;
          tile.data.copy(out, (oy * width + ox) * 3, (ty * tile.width + tx) * 3, (ty * tile.width + tx) * 3 + 3);
        }
      }
    }
  }
  return { width, height, data: out };
}
