import { mkdtemp, readFile, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMemorySource, openFileSource } from "../byte-source";
import { decodeJpeg } from "../codec/jpeg";
import { halveImage, cropImage } from "../image";
import { openSlide } from "../slide";
import { psnr, readJpegFile, renderRegion } from "../test-support/pixels";
import { pyramidImages, tissuePixel, writeTestTiff } from "../test-support/tiff-writer";
import { buildDeepZoom } from "./build";
import { planDeepZoomLevels } from "./plan";
import { createFolderSink } from "./sink";
import { fixturePath } from "../test-support/fixtures";

const work = await mkdtemp(join(tmpdir(), "wsi-dz-"));
afterAll(() => rm(work, { recursive: true, force: true }));

async function listTiles(dir: string) {
  const levels = (await readdir(dir)).map(Number).sort((a, b) => a - b);
  return Promise.all(levels.map(async (level) => ({ level, files: (await readdir(join(dir, String(level)))).sort() })));
}

async function jpegSize(path: string) {
  const image = await decodeJpeg(await readFile(path));
  return [image.width, image.height];
}

describe("Deep Zoom geometry", () => {
  it("plans levels down to 1×1, halving with round-up", () => {
    const levels = planDeepZoomLevels(2220, 2967, 254);
    expect(levels[0]).toEqual({ level: 12, width: 2220, height: 2967, cols: 9, rows: 12 });
    expect(levels.at(-1)).toEqual({ level: 0, width: 1, height: 1, cols: 1, rows: 1 });
    expect(levels[1]).toMatchObject({ width: 1110, height: 1484 });
    expect(planDeepZoomLevels(1, 1, 254)).toHaveLength(1);
  });
});

describe("buildDeepZoom", () => {
  it("writes the vips dzsave layout with edge tiles cropped and overlap on inner edges", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
    const out = join(work, "cmu");
    const result = await buildDeepZoom(slide, createFolderSink(out));
    const dzi = await readFile(join(out, "CMU-1-Small-Region.dzi"), "utf8");
    expect(dzi).toContain('Format="jpeg" Overlap="1" TileSize="254"');
    expect(dzi).toContain('<Size Height="2967" Width="2220"/>');
    const tiles = await listTiles(join(out, "CMU-1-Small-Region_files"));
    expect(tiles.map((t) => t.level)).toEqual([...Array(13).keys()]);
    expect(tiles.reduce((n, t) => n + t.files.length, 0)).toBe(result.tilesWritten);
    expect(result.tilesWritten).toBe(160);
    const dir = join(out, "CMU-1-Small-Region_files");
    expect(await jpegSize(join(dir, "12/0_0.jpeg"))).toEqual([255, 255]); // overlap right and below only
    expect(await jpegSize(join(dir, "12/1_1.jpeg"))).toEqual([256, 256]);
    expect(await jpegSize(join(dir, "12/8_11.jpeg"))).toEqual([2220 - 8 * 254 + 1, 2967 - 11 * 254 + 1]); // cropped edge
    expect(await jpegSize(join(dir, "0/0_0.jpeg"))).toEqual([1, 1]);
    expect((await readdir(out)).filter((f) => f.startsWith("."))).toEqual([]); // staging folder gone

    // Level 0 pixels against the source; a lower level against the source halved twice.
    const tile = await readJpegFile(join(dir, "12/3_4.jpeg"));
    const source = await regionOf(slide, 3 * 254 - 1, 4 * 254 - 1, 256, 256);
    expect(psnr(tile, source)).toBeGreaterThan(27); // vips dzsave scores the same (28.8 dB) on this tile
    const low = await readJpegFile(join(dir, "10/1_1.jpeg"));
    const quarter = halveImage(halveImage(await regionOf(slide, 4 * (254 - 1), 4 * (254 - 1), 4 * 256, 4 * 256)));
    expect(psnr(low, quarter)).toBeGreaterThan(26);
    await slide.close();
  });

  it("uses the source's own lower levels, and they give the same picture as shrinking", async () => {
    const images = pyramidImages(1500, 1100, 128, 3);
    const slide = await openSlide(createMemorySource(writeTestTiff(images).bytes, "pyr.tif"));
    const out = join(work, "pyr");
    const reads: number[] = [];
    const tracked = {
      ...slide,
      decodeTile: (l: number, c: number, r: number, into?: Buffer) => {
        reads.push(l);
        return slide.decodeTile(l, c, r, into);
      },
    };
    await buildDeepZoom(tracked, createFolderSink(out), { tileSize: 256, overlap: 0, quality: 90 });
    expect(new Set(reads)).toEqual(new Set([0, 1, 2])); // every source level was read
    const files = join(out, "pyr_files");
    // Source levels were written point-sampled (pixel(x·s, y·s)); level 8 is level 2 halved.
    for (const [level, sourceScale, shrink] of [
      [11, 1, 1],
      [10, 2, 1],
      [9, 4, 1],
      [8, 4, 2],
    ] as const) {
      const tile = await readJpegFile(join(files, `${level}/0_0.jpeg`));
      const levelPixel = (x: number, y: number) => tissuePixel(x * sourceScale, y * sourceScale);
      const size = { width: Math.ceil(1500 / sourceScale), height: Math.ceil(1100 / sourceScale) };
      const truth = renderRegion(levelPixel, 0, 0, tile.width, tile.height, shrink, size);
      expect(psnr(tile, truth), `level ${level}`).toBeGreaterThan(26);
    }
  });

  it("passes source JPEG tiles through unchanged in the source's own geometry", async () => {
    const images = pyramidImages(1000, 700, 256, 2, { quality: 85 });
    const tiff = writeTestTiff(images);
    const slide = await openSlide(createMemorySource(tiff.bytes, "pass.tif"));
    const out = join(work, "pass");
    const result = await buildDeepZoom(slide, createFolderSink(out), { tileSize: "source", overlap: 0 });
    // Interior tiles: 3×2 at level 10, 1×1 at level 9 (500×350).
    expect(result.tilesPassedThrough).toBe(7);
    const copied = await readFile(join(out, "pass_files/10/1_1.jpeg"));
    const raw = await slide.readRawTile(0, 1, 1);
    expect(Buffer.compare(copied, Buffer.from(raw.bytes))).toBe(0);
    expect(await jpegSize(join(out, "pass_files/10/3_2.jpeg"))).toEqual([1000 - 768, 700 - 512]);
    const edge = await readJpegFile(join(out, "pass_files/10/3_2.jpeg"));
    expect(psnr(edge, renderRegion(tissuePixel, 768, 512, 232, 188))).toBeGreaterThan(25);
  });

  it("writes PNG tiles when asked, with any tile size and overlap", async () => {
    const slide = await openSlide(createMemorySource(writeTestTiff(pyramidImages(300, 200, 64, 1)).bytes, "png.tif"));
    const out = join(work, "png");
    await buildDeepZoom(slide, createFolderSink(out), { tileSize: 100, overlap: 2, format: "png" });
    expect(await readFile(join(out, "png.dzi"), "utf8")).toContain('Format="png" Overlap="2" TileSize="100"');
    const png = await readFile(join(out, "png_files/9/1_1.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
    const sharp = (await import("sharp")).default;
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([104, 100 + 2]); // 98..202 wide, 98..200 high (image edge)
    expect(psnr({ width: info.width, height: info.height, data }, cropImage(renderRegion(tissuePixel, 0, 0, 300, 200), 98, 98, 104, 102))).toBeGreaterThan(28);
  });

  it("publishes nothing when tiling fails midway, and keeps an older pyramid intact", async () => {
    const tiff = writeTestTiff(pyramidImages(800, 800, 128, 1));
    const out = join(work, "fail");
    const good = await openSlide(createMemorySource(tiff.bytes, "same.tif"));
    await buildDeepZoom(good, createFolderSink(out));
    const before = await stat(join(out, "same.dzi"));
    // Same name, but the bytes end halfway through the tile data.
    const cut = Buffer.from(tiff.bytes);
    const broken = await openSlide({
      ...createMemorySource(cut, "same.tif"),
      read: async (offset, length) => {
        if (offset > 60_000 && offset < cut.length - 4096) throw new (await import("../errors")).WsiError("IO_ERROR", "disk went away");
        return cut.subarray(offset, offset + length);
      },
    });
    await expect(buildDeepZoom(broken, createFolderSink(out))).rejects.toMatchObject({ code: "IO_ERROR" });
    expect((await stat(join(out, "same.dzi"))).mtimeMs).toBe(before.mtimeMs);
    expect((await readdir(out)).sort()).toEqual(["same.dzi", "same_files"]);
  });

  it("reports progress up to the total", async () => {
    const slide = await openSlide(createMemorySource(writeTestTiff(pyramidImages(1200, 900, 256, 1)).bytes, "p.tif"));
    const seen: number[] = [];
    const result = await buildDeepZoom(slide, createFolderSink(join(work, "progress")), {
      onProgress: (p) => seen.push(p.tilesWritten / p.tilesTotal),
    });
    expect(seen.at(-1)).toBe(1);
    expect(result.tilesWritten).toBe(planDeepZoomLevels(1200, 900, 254).reduce((n, l) => n + l.cols * l.rows, 0));
  });

  it("refuses bad options with a clear message", async () => {
    const slide = await openSlide(createMemorySource(writeTestTiff(pyramidImages(100, 100, 64, 1)).bytes, "o.tif"));
    const sink = createFolderSink(join(work, "opts"));
    await expect(buildDeepZoom(slide, sink, { tileSize: 0 })).rejects.toThrow(/tile size/);
    await expect(buildDeepZoom(slide, sink, { quality: 101 })).rejects.toThrow(/quality/);
    await expect(buildDeepZoom(slide, sink, { overlap: 200 })).rejects.toThrow(/overlap/);
  });
});

async function regionOf(slide: Awaited<ReturnType<typeof openSlide>>, x: number, y: number, w: number, h: number) {
  const level = slide.metadata.levels[0]!;
  const full = Buffer.alloc(w * h * 3);
  const image = { width: w, height: h, data: full };
  for (let row = Math.floor(y / level.tileHeight); row * level.tileHeight < y + h; row++) {
    for (let col = Math.floor(x / level.tileWidth); col * level.tileWidth < x + w; col++) {
      const tile = await slide.readTile(0, col, row);
      for (let ty = 0; ty < tile.height; ty++) {
        for (let tx = 0; tx < tile.width; tx++) {
          const ix = col * level.tileWidth + tx - x;
          const iy = row * level.tileHeight + ty - y;
          if (ix < 0 || iy < 0 || ix >= w || iy >= h) continue;
          tile.data.copy(full, (iy * w + ix) * 3, (ty * tile.width + tx) * 3, (ty * tile.width + tx) * 3 + 3);
        }
      }
    }
  }
  return image;
}
