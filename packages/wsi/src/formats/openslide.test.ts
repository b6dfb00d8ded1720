import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeJpeg } from "../codec/jpeg";
import { openSlideAt } from "../slide";
import { openslideProperties, openslideRegion, readSlideRegion } from "../test-support/openslide-check";
import { writePhilipsTiff } from "../test-support/philips-writer";
import { psnr, renderRegion } from "../test-support/pixels";
import { tissuePixel } from "../test-support/tiff-writer";
import { openWithOpenslide } from "./openslide";

const work = await mkdtemp(join(tmpdir(), "wsi-openslide-"));
afterAll(() => rm(work, { recursive: true, force: true }));

describe("other vendors through OpenSlide (koffi + libopenslide0)", () => {
  it("a Philips TIFF: levels, MPP, label and pixels as OpenSlide gives them", async () => {
    const path = join(work, "philips.tiff");
    await writePhilipsTiff(path, { width: 1500, height: 1100, levels: 3 });
    const theirs = await openslideProperties(path);
    expect(theirs["openslide.vendor"]).toBe("philips");
    const slide = await openSlideAt(path);
    const m = slide.metadata;
    expect(m).toMatchObject({ format: "openslide", vendor: "philips", width: 1500, height: 1100, mppX: 0.25, mppY: 0.25 });
    expect(m.levels.map((l) => [l.width, l.height, l.downsample])).toEqual(
      [0, 1, 2].map((i) => [Number(theirs[`openslide.level[${i}].width`]), Number(theirs[`openslide.level[${i}].height`]), 2 ** i]),
    );
    expect(m.properties["philips.DICOM_MANUFACTURER"]).toBe("PHILIPS");
    expect(m.associated.map((a) => [a.name, a.width, a.height])).toEqual([["label", 300, 200]]);
    const label = await slide.readAssociated("label");
    expect([...label.data.subarray(0, 3)].map((v) => Math.round(v / 10))).toEqual([4, 9, 20]);
    for (const [level, x, y, w, h] of [
      [0, 400, 300, 700, 600],
      [2, 0, 0, 375, 275],
    ] as const) {
      const ours = await readSlideRegion(slide, level, x, y, w, h);
      expect(psnr(ours, await openslideRegion(path, level, x * 2 ** level, y * 2 ** level, w, h))).toBe(Infinity); // the same library's pixels
      expect(
        psnr(
          ours,
          renderRegion((px, py) => tissuePixel(px * 2 ** level, py * 2 ** level), x, y, w, h),
        ),
      ).toBeGreaterThan(25);
    }
    const raw = await slide.readRawTile(1, 1, 0); // edge tile: 750 − 512 wide
    expect(raw.kind).toBe("jpeg");
    const decoded = await decodeJpeg(raw.bytes);
    expect([decoded.width, decoded.height]).toEqual([238, 512]);
    await slide.close();
  });

  it("an .mrxs without its folder: says the folder is missing", async () => {
    const path = join(work, "CMU-7.mrxs");
    await writeFile(path, "");
    await expect(openSlideAt(path)).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/CMU-7\/ \(with Slidedat.ini\) is missing.*copy both/),
    });
  });

  it("a damaged MRXS folder: OpenSlide's reason, in one line", async () => {
    const path = join(work, "broken.mrxs");
    await writeFile(path, "");
    await mkdir(join(work, "broken"));
    await writeFile(join(work, "broken", "Slidedat.ini"), "[GENERAL]\r\nSLIDE_VERSION=01.02\r\n");
    const attempt = openSlideAt(path);
    await expect(attempt).rejects.toMatchObject({ name: "WsiError" });
    await expect(attempt).rejects.toThrow(/^broken\.mrxs: [^\n]+$/);
  });

  it("without libopenslide0 installed: one line naming the Debian package", async () => {
    const path = join(work, "philips-2.tiff");
    await writePhilipsTiff(path, { width: 300, height: 200, levels: 1 });
    await expect(openWithOpenslide(path, "libopenslide-not-installed.so.0")).rejects.toMatchObject({
      code: "UNSUPPORTED_FORMAT",
      message: expect.stringMatching(/needs OpenSlide, which is not installed; install the Debian package libopenslide0/),
    });
  });
});
