import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openFileSource } from "../byte-source";
import type { RgbImage } from "../image";
import { openSlide } from "../slide";
import { writeSyntheticSlide } from "./index";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pathx-synthetic-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Share of pixels that are glass, pink stroma, purple (haematoxylin) or brown (DAB). */
function composition(tile: RgbImage) {
  const n = tile.width * tile.height;
  const count = { glass: 0, stroma: 0, purple: 0, brown: 0 };
  for (let i = 0; i < n * 3; i += 3) {
    const [r, g, b] = [tile.data[i]!, tile.data[i + 1]!, tile.data[i + 2]!];
    if (r > 236 && g > 232 && b > 236) count.glass++;
    else if (r < 140 && b > r + 25) count.purple++;
    else if (r < 170 && r > g + 25 && g > b) count.brown++;
    else if (r > 200 && r - g > 40 && b > g) count.stroma++;
  }
  return { glass: count.glass / n, stroma: count.stroma / n, purple: count.purple / n, brown: count.brown / n };
}

async function tiles(path: string) {
  const slide = await openSlide(await openFileSource(path));
  const level = slide.metadata.levels[0]!;
  const tilesAcross = Math.ceil(level.width / level.tileWidth);
  const tilesDown = Math.ceil(level.height / level.tileHeight);
  const all: ReturnType<typeof composition>[] = [];
  for (let row = 0; row < tilesDown; row++) for (let col = 0; col < tilesAcross; col++) all.push(composition(await slide.readTile(0, col, row)));
  return { slide, all };
}

describe("synthetic demo slides", () => {
  it("look like an H&E section: fragments of pink stroma with purple nuclei, glass between them", async () => {
    const path = join(dir, "he.tif");
    await writeSyntheticSlide(path, { width: 3000, height: 2000, micronsPerPixel: 0.25 });
    const { slide, all } = await tiles(path);
    expect(slide.metadata).toMatchObject({ width: 3000, height: 2000, bigTiff: true });
    expect(slide.metadata.mppX).toBeCloseTo(0.25, 6);
    const tissue = all.filter((c) => c.stroma > 0.5);
    const glass = all.filter((c) => c.glass > 0.95);
    // Both tissue and empty glass, in fair shares: separate fragments, not a filled rectangle.
    expect(tissue.length / all.length).toBeGreaterThan(0.2);
    expect(glass.length / all.length).toBeGreaterThan(0.1);
    // Nuclei in the tissue: a few percent of its pixels, as in stroma with scattered cells.
    const nuclei = tissue.reduce((sum, c) => sum + c.purple, 0) / tissue.length;
    expect(nuclei).toBeGreaterThan(0.02);
    expect(nuclei).toBeLessThan(0.4);
    await slide.close();
  });

  it("stains Ki-67 with brown positive nuclei among blue ones", async () => {
    const path = join(dir, "ki67.tif");
    await writeSyntheticSlide(path, { width: 2048, height: 1536, stain: "ki67" });
    const { slide, all } = await tiles(path);
    const brown = all.reduce((sum, c) => sum + c.brown, 0);
    const blue = all.reduce((sum, c) => sum + c.purple, 0);
    expect(brown).toBeGreaterThan(0);
    expect(blue).toBeGreaterThan(brown);
    await slide.close();
  });

  it("writes a 40 000 × 30 000 slide by reusing tissue tiles: a small file of every tile", async () => {
    const path = join(dir, "large.tif");
    const { tiles: count, edgeTiles } = await writeSyntheticSlide(path, { width: 40_000, height: 30_000, micronsPerPixel: 0.25 });
    const slide = await openSlide(await openFileSource(path));
    expect(slide.metadata).toMatchObject({ width: 40_000, height: 30_000 });
    expect(count).toBe(157 * 118);
    expect(edgeTiles).toBeLessThan(count / 2);
    const middle = composition(await slide.readTile(0, 78, 59));
    expect(middle.glass + middle.stroma + middle.purple).toBeGreaterThan(0.5);
    await slide.close();
  }, 180_000);
});
