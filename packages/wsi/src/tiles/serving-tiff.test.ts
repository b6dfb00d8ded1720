import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openFileSource } from "../byte-source";
import { isOpenslideVendorLayout } from "../formats/openslide-vendors";
import { openSlide, openSlideAt } from "../slide";
import { readSlideRegion } from "../test-support/openslide-check";
import { writePhilipsTiff } from "../test-support/philips-writer";
import { psnr } from "../test-support/pixels";
import { planDeepZoomLevels } from "../deepzoom/plan";
import { halveImage } from "../image";
import { writeServingTiff } from "./serving-tiff";

const work = await mkdtemp(join(tmpdir(), "wsi-serving-"));
afterAll(() => rm(work, { recursive: true, force: true }));

describe("rewriting a slide only OpenSlide reads for serving by byte ranges", () => {
  it("a Philips TIFF: one BigTIFF with level 0 and every Deep Zoom level below it, pixels as OpenSlide gives them", async () => {
    const path = join(work, "philips.tiff");
    await writePhilipsTiff(path, { width: 1500, height: 1100, levels: 3 });
    // By bytes alone the native reader takes it as a generic TIFF, and says it should not.
    const native = await openSlide(await openFileSource(path));
    expect(isOpenslideVendorLayout(native.metadata)).toBe(true);
    await native.close();
    const original = await openSlideAt(path);
    expect(original.metadata.format).toBe("openslide");
    const fractions: number[] = [];
    const out = join(work, "serving.tiff");
    const started = process.cpuUsage();
    const result = await writeServingTiff(original, out, { onProgress: (f) => fractions.push(f) });
    const cpu = process.cpuUsage(started);
    console.log(`serving TIFF: ${result.tiles} tiles, ${((cpu.user + cpu.system) / 1000 / result.tiles).toFixed(1)} CPU-ms per tile`);
    expect(fractions.at(-1)).toBe(1);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    const serving = await openSlide(await openFileSource(out));
    expect(isOpenslideVendorLayout(serving.metadata)).toBe(false);
    expect(serving.metadata.associated).toEqual([]);
    const wanted = planDeepZoomLevels(1500, 1100, 512).sort((a, b) => b.width - a.width);
    expect(serving.metadata.levels.map((l) => [l.width, l.height, l.tileWidth])).toEqual(
      wanted.filter((l, i) => i === 0 || (l.width < wanted[i - 1]!.width && l.height < wanted[i - 1]!.height)).map((l) => [l.width, l.height, 512]),
    );
    expect(result.levels).toBe(serving.metadata.levels.length);
    // Level 0 as OpenSlide reads it; the levels below shrunk from it (the file's own lower levels are not used).
    const theirs = await readSlideRegion(original, 0, 0, 0, 1500, 1100);
    const ours = await readSlideRegion(serving, 0, 0, 0, 1500, 1100);
    expect(psnr(ours, theirs)).toBeGreaterThan(32); // JPEG q85 4:2:0 of a noisy synthetic stain
    expect(psnr(await readSlideRegion(serving, 1, 0, 0, 750, 550), halveImage(theirs))).toBeGreaterThan(28); // two JPEG generations
    await serving.close();
    await original.close();
    expect((await readdir(work)).sort()).toEqual(["philips.tiff", "serving.tiff"]); // no work files left
  });
});
