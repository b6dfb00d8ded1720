import { cp, mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeJpeg } from "../codec/jpeg";
import { openSlideAt } from "../slide";
import { openDeepZoomView } from "../tiles/view";
import { type WrittenMrxs, writeMrxs } from "../test-support/mrxs-writer";
import { openslideProperties, openslideRegion, readSlideRegion } from "../test-support/openslide-check";
import { psnr, renderRegion } from "../test-support/pixels";

const work = await mkdtemp(join(tmpdir(), "wsi-mrxs-"));
let mrxs: WrittenMrxs;
beforeAll(async () => {
  mrxs = await writeMrxs(work, "CMU-pathx", { imagesX: 5, imagesY: 4, levels: 3, imageSize: 256, micronsPerPixel: 0.243 });
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe("a generated 3DHISTECH MRXS slide (the .mrxs file and its folder)", () => {
  it("OpenSlide opens it, and pathx reads the same levels, MPP, pictures of the glass and pixels", async () => {
    const theirs = await openslideProperties(mrxs.path);
    expect(theirs).toMatchObject({ "openslide.vendor": "mirax", "openslide.level-count": "3", "openslide.objective-power": "20" });
    expect(Number(theirs["openslide.mpp-x"])).toBeCloseTo(0.243, 12);
    const slide = await openSlideAt(mrxs.path);
    const m = slide.metadata;
    expect(m).toMatchObject({ format: "openslide", vendor: "mirax", width: 1280, height: 1024, objectivePower: 20 });
    expect([m.mppX, m.mppY]).toEqual([Number(theirs["openslide.mpp-x"]), Number(theirs["openslide.mpp-y"])]);
    expect(m.levels.map((l) => ({ width: l.width, height: l.height }))).toEqual(mrxs.levels);
    expect(m.levels.map((l) => [l.width, l.height])).toEqual(
      [0, 1, 2].map((i) => [Number(theirs[`openslide.level[${i}].width`]), Number(theirs[`openslide.level[${i}].height`])]),
    );
    expect(m.associated.map((a) => [a.name, a.width, a.height]).sort()).toEqual([
      ["label", 200, 200],
      ["macro", 600, 200],
      ["thumbnail", 300, 120],
    ]);
    const label = await slide.readAssociated("label");
    expect([...label.data.subarray(0, 3)].map((v) => Math.round(v / 10))).toEqual([4, 9, 20]);
    for (const [level, x, y, w, h] of [
      [0, 200, 100, 700, 600],
      [1, 0, 0, 640, 512],
      [2, 0, 0, 320, 256],
    ] as const) {
      const ours = await readSlideRegion(slide, level, x, y, w, h);
      expect(psnr(ours, await openslideRegion(mrxs.path, level, x * 2 ** level, y * 2 ** level, w, h))).toBe(Infinity); // the same library's pixels
      expect(
        psnr(
          ours,
          renderRegion((px, py) => mrxs.pixel(level, px, py), x, y, w, h),
        ),
      ).toBeGreaterThan(25); // JPEG q90 of what was written (its grain is noise JPEG smooths), as in the Philips test
    }
    // Deep Zoom tiles as the tile service makes them: the full-resolution level, tile (1, 1).
    const view = openDeepZoomView(slide);
    const tile = await decodeJpeg((await view.getTile(view.maxLevel, 1, 1)).bytes);
    const size = view.tileSize;
    expect([tile.width, tile.height]).toEqual([size, size]);
    expect(psnr(tile, await openslideRegion(mrxs.path, 0, size, size, size, size))).toBeGreaterThan(25); // re-encoded by the view
    await slide.close();
  });

  const broken: [string, (folder: string) => Promise<void>, RegExp][] = [
    ["its folder is missing", (folder) => rm(folder, { recursive: true }), /CMU-pathx\/ \(with Slidedat\.ini\) is missing.*copy both/],
    ["Index.dat is missing", (folder) => rm(join(folder, "Index.dat")), /OpenSlide cannot read it|cannot open it/],
    [
      "Index.dat names another slide",
      async (folder) => {
        const index = await readFile(join(folder, "Index.dat"));
        index.write("X", 5, "latin1"); // the slide id follows "01.02"; ids are hexadecimal
        await writeFile(join(folder, "Index.dat"), index);
      },
      /OpenSlide cannot read it|cannot open it/,
    ],
    [
      "Slidedat.ini lacks its zoom levels",
      async (folder) => {
        const ini = (await readFile(join(folder, "Slidedat.ini"), "latin1")).replace("HIER_0_NAME=Slide zoom level", "HIER_0_NAME=Other");
        await writeFile(join(folder, "Slidedat.ini"), ini);
      },
      /OpenSlide cannot read it|cannot open it/,
    ],
    ["Data0000.dat is cut short", (folder) => truncate(join(folder, "Data0000.dat"), 5000), /OpenSlide cannot read it|cannot open it/],
  ];
  it.each(broken)("bad input, %s: one clear line, never a crash", async (_, damage, message) => {
    const dir = await mkdtemp(join(work, "bad-"));
    await cp(mrxs.path, join(dir, "CMU-pathx.mrxs"));
    await cp(mrxs.folder, join(dir, "CMU-pathx"), { recursive: true });
    await damage(join(dir, "CMU-pathx"));
    const attempt = (async () => {
      const slide = await openSlideAt(join(dir, "CMU-pathx.mrxs"));
      try {
        // A truncated data file opens: its tiles then fail, one by one.
        const { width, height, tileWidth, tileHeight } = slide.metadata.levels[0]!;
        for (let row = 0; row * tileHeight < height; row++) for (let col = 0; col * tileWidth < width; col++) await slide.readTile(0, col, row);
      } finally {
        await slide.close();
      }
    })();
    await expect(attempt).rejects.toMatchObject({ name: "WsiError" });
    await expect(attempt).rejects.toThrow(/^CMU-pathx\.mrxs: [^\n]+$/);
    await expect(attempt).rejects.toThrow(message);
  });
});
