import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSlideAt } from "../slide";
import { openslideProperties, openslideRegion, readSlideRegion } from "../test-support/openslide-check";
import { psnr } from "../test-support/pixels";
import { type NdpiOptions, type WrittenNdpi, writeNdpi } from "../test-support/ndpi-writer";

const work = await mkdtemp(join(tmpdir(), "wsi-ndpi-"));
afterAll(() => rm(work, { recursive: true, force: true }));

const standard: NdpiOptions = {
  levels: [
    { width: 2048, height: 1536, restartInterval: 32 },
    { width: 1024, height: 768, restartInterval: 16, subsampling: "444" },
    { width: 512, height: 384, restartInterval: 0 },
  ],
  macro: { width: 600, height: 200 },
  map: true,
};
let good: WrittenNdpi;
const goodPath = join(work, "good.ndpi");
beforeAll(async () => {
  good = await writeNdpi(goodPath, standard);
});

/** pathx and OpenSlide agree on a region of a level: same JPEG data, so nearly identical pixels. */
async function expectSameAsOpenslide(path: string, level: number, x: number, y: number, w: number, h: number, reference = path) {
  const slide = await openSlideAt(path);
  try {
    const ours = await readSlideRegion(slide, level, x, y, w, h);
    const scale = slide.metadata.levels[level]!.downsample;
    const theirs = await openslideRegion(reference, level, x * scale, y * scale, w, h);
    // Not bit-identical: OpenSlide decodes interval by interval, upsampling chroma at each edge alone.
    expect(psnr(ours, theirs)).toBeGreaterThan(38);
    if (reference !== path) {
      const intact = await openSlideAt(reference);
      expect((await readSlideRegion(intact, level, x, y, w, h)).data.equals(ours.data)).toBe(true);
      await intact.close();
    }
  } finally {
    await slide.close();
  }
}

describe("Hamamatsu NDPI, native", () => {
  it("reads what OpenSlide reads: levels, MPP, objective, NDPI properties, macro", async () => {
    const theirs = await openslideProperties(goodPath);
    const slide = await openSlideAt(goodPath);
    const m = slide.metadata;
    expect(m).toMatchObject({ format: "hamamatsu-ndpi", vendor: "hamamatsu", width: 2048, height: 1536, objectivePower: 20 });
    // OpenSlide adds three levels below the smallest by JPEG scaling; the stored ones must match exactly.
    m.levels.forEach((l, i) => {
      expect([l.width, l.height]).toEqual([Number(theirs[`openslide.level[${i}].width`]), Number(theirs[`openslide.level[${i}].height`])]);
    });
    expect(m.levels.map((l) => [l.tileWidth, l.tileHeight])).toEqual([
      [512, 512],
      [512, 512],
      [512, 384],
    ]);
    expect(m.mppX).toBeCloseTo(Number(theirs["openslide.mpp-x"]), 6);
    expect(String(m.objectivePower)).toBe(theirs["openslide.objective-power"]);
    for (const key of Object.keys(theirs).filter((k) => k.startsWith("hamamatsu."))) expect([key, m.properties[key]]).toEqual([key, theirs[key]]);
    expect(m.associated.map((a) => [a.name, a.width, a.height])).toEqual([["macro", 600, 200]]); // the map (−2) is ignored
    const macro = await slide.readAssociated("macro");
    expect([...macro.data.subarray(0, 3)].map((v) => Math.round(v / 20))).toEqual([12, 10, 3]); // the yellow sticker
    await slide.close();
  });

  it("decodes tiles from restart intervals with the pixels OpenSlide shows", async () => {
    await expectSameAsOpenslide(goodPath, 0, 700, 300, 600, 500); // crosses tile and interval edges
    await expectSameAsOpenslide(goodPath, 1, 100, 500, 700, 268); // 4:4:4 level, bottom edge
    await expectSameAsOpenslide(goodPath, 2, 0, 0, 512, 384); // no restart markers: decoded whole
  });

  it("a raw tile is a standalone JPEG of only its intervals", async () => {
    const slide = await openSlideAt(goodPath);
    const raw = await slide.readRawTile(0, 1, 1);
    expect(raw.kind).toBe("jpeg");
    expect(raw.bytes.length).toBeLessThan(good.images[0]!.byteCount / 6); // one tile of 12, not the level
    expect([...raw.bytes.subarray(raw.bytes.length - 2)]).toEqual([0xff, 0xd9]);
    await slide.close();
  });

  it("a level over 65 535 px wide (SOF width 0)", async () => {
    const path = join(work, "wide.ndpi");
    await writeNdpi(path, {
      levels: [
        { width: 66_560, height: 48, restartInterval: 32 },
        { width: 33_280, height: 24, restartInterval: 0 },
      ],
    });
    const theirs = await openslideProperties(path);
    expect(theirs["openslide.level[0].width"]).toBe("66560");
    const slide = await openSlideAt(path);
    expect([slide.metadata.width, slide.metadata.height]).toEqual([66_560, 48]);
    await slide.close();
    await expectSameAsOpenslide(path, 0, 65_300, 0, 600, 48);
  });

  it("a file over 4 GiB (sparse): 64-bit directory offsets and restored high offset bits", async () => {
    const path = join(work, "big.ndpi");
    const written = await writeNdpi(path, {
      levels: [
        { width: 1024, height: 512, restartInterval: 16 },
        { width: 512, height: 256, restartInterval: 0 },
      ],
      gapBytes: 4.5 * 2 ** 30,
    });
    expect(written.images[0]!.stripOffset).toBeGreaterThan(2 ** 32);
    expect(Number((await openslideProperties(path))["openslide.level[0].width"])).toBe(1024);
    await expectSameAsOpenslide(path, 0, 200, 100, 700, 400);
  });

  it("McuStarts missing or pointing at no marker: the markers are found by scanning, pixels unchanged", async () => {
    const missing = join(work, "no-starts.ndpi");
    await writeNdpi(missing, { ...standard, omitMcuStarts: true });
    await expectSameAsOpenslide(missing, 0, 700, 300, 600, 500);
    const wrong = join(work, "wrong-starts.ndpi");
    const w = await writeNdpi(wrong, standard);
    const file = await open(wrong, "r+");
    const entry = w.images[0]!.entries.get(65426)!;
    const array = Buffer.alloc(4);
    await file.read(array, 0, 4, entry + 8);
    const word = Buffer.alloc(4);
    word.writeUInt32LE(w.images[0]!.mcuStarts[40]! + 7);
    await file.write(word, 0, 4, array.readUInt32LE(0) + 40 * 4); // interval 40 now starts mid-data
    await file.close();
    // OpenSlide 3.4.1 itself gives up on this file ("Restart marker not found"): compare with the intact one.
    await expectSameAsOpenslide(wrong, 0, 0, 0, 1024, 512, goodPath);
  });
});
