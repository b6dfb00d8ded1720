import { describe, expect, it } from "vitest";
import { createMemorySource, openFileSource } from "./byte-source";
import { openSlide } from "./slide";
import { psnr, renderRegion } from "./test-support/pixels";
import { pyramidImages, tissuePixel, writeTestTiff } from "./test-support/tiff-writer";
import { fixturePath } from "./test-support/fixtures";

describe("openSlide on the shared real slides", () => {
  it("reads Aperio SVS metadata, levels and the pictures of the glass", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
    const m = slide.metadata;
    expect(m).toMatchObject({
      format: "aperio-svs",
      vendor: "aperio",
      width: 2220,
      height: 2967,
      mppX: 0.499,
      mppY: 0.499,
      objectivePower: 20,
      bigTiff: false,
    });
    expect(m.levels).toEqual([{ index: 0, width: 2220, height: 2967, tileWidth: 240, tileHeight: 240, downsample: 1, compression: "jpeg" }]);
    expect(m.associated.map((a) => [a.name, a.width, a.height, a.compression])).toEqual([
      ["thumbnail", 574, 768, "jpeg"],
      ["label", 387, 463, "lzw"],
      ["macro", 1280, 431, "jpeg"],
    ]);
    expect(m.properties["aperio.ScanScope ID"]).toBe("CPAPERIOCS");
    const label = await slide.readAssociated("label");
    expect([label.width, label.height, label.data.length]).toEqual([387, 463, 387 * 463 * 3]);
    // The label is a yellow-orange sticker: mostly red+green, little blue.
    const mean = [0, 1, 2].map((c) => label.data.filter((_, i) => i % 3 === c).reduce((s, v) => s + v, 0) / (387 * 463));
    expect(mean[0]!).toBeGreaterThan(mean[2]! + 40);
    await slide.close();
  });

  it("decodes Aperio RGB-coded JPEG tiles with the right colours (H&E is pink, not green)", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
    const tile = await slide.readTile(0, 4, 6);
    const mean = [0, 1, 2].map((c) => tile.data.filter((_, i) => i % 3 === c).reduce((s, v) => s + v, 0) / (240 * 240));
    expect(mean[0]!).toBeGreaterThan(mean[1]! + 20); // red over green
    const raw = await slide.readRawTile(0, 4, 6);
    expect(raw.kind).toBe("jpeg");
    expect([...raw.bytes.subarray(0, 4)]).toEqual([0xff, 0xd8, 0xff, 0xee]); // Adobe marker spliced in
    // Edge tiles are cropped to the image.
    const edge = await slide.readTile(0, 9, 12);
    expect([edge.width, edge.height]).toEqual([2220 - 9 * 240, 2967 - 12 * 240]);
    await slide.close();
  });

  it("reads OME-TIFF with MPP from OME-XML", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("OS-1-detail.ome.tif")));
    expect(slide.metadata).toMatchObject({ format: "ome-tiff", width: 1101, height: 1101 });
    expect(slide.metadata.mppX).toBeCloseTo(0.2271, 4);
    expect(slide.metadata.levels[0]).toMatchObject({ tileWidth: 512, tileHeight: 512 });
    const tile = await slide.readTile(0, 2, 2);
    expect([tile.width, tile.height]).toEqual([1101 - 1024, 1101 - 1024]);
    await slide.close();
  });

  it("reads a generic pyramidal deflate TIFF with its levels", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("openslide-python_boxes.tiff")));
    expect(slide.metadata.format).toBe("generic-tiff");
    expect(slide.metadata.levels.map((l) => [l.width, l.height])).toEqual([
      [300, 250],
      [150, 125],
      [75, 62],
      [37, 31],
    ]);
    expect(slide.metadata.mppX).toBeNull(); // 72 dpi default is not a microscope resolution
    const tile = await slide.readTile(1, 0, 0);
    expect(tile.width).toBe(64);
    await slide.close();
  });
});

describe("openSlide on generated slides", () => {
  it("reads a classic-TIFF pyramid and its pixels match the source", async () => {
    const tiff = writeTestTiff(pyramidImages(700, 500, 128, 3, { pixelsPerCm: 40_000 }));
    const slide = await openSlide(createMemorySource(tiff.bytes, "gen.tif"));
    expect(slide.metadata.levels.map((l) => [l.width, l.height, l.downsample])).toEqual([
      [700, 500, 1],
      [350, 250, 2],
      [175, 125, 4],
    ]);
    expect(slide.metadata.mppX).toBeCloseTo(0.25, 6);
    const tile = await slide.readTile(0, 1, 1);
    expect(psnr(tile, renderRegion(tissuePixel, 128, 128, 128, 128))).toBeGreaterThan(30);
  });

  it("reads BigTIFF and pyramids kept in SubIFDs (OME/libvips layout)", async () => {
    const [base, ...rest] = pyramidImages(600, 400, 64, 3);
    const tiff = writeTestTiff([{ ...base!, subIfds: rest }], { bigTiff: true });
    const slide = await openSlide(createMemorySource(tiff.bytes, "big.tif"));
    expect(slide.metadata.bigTiff).toBe(true);
    expect(slide.metadata.levels.map((l) => l.width)).toEqual([600, 300, 150]);
    const tile = await slide.readTile(2, 0, 0);
    expect(
      psnr(
        tile,
        renderRegion((x, y) => tissuePixel(x * 4, y * 4), 0, 0, 64, 64),
      ),
    ).toBeGreaterThan(25);
  });

  it("reads only the bytes it needs: opening a slide does not read its tiles", async () => {
    const tiff = writeTestTiff(pyramidImages(2048, 2048, 256, 1));
    const inner = createMemorySource(tiff.bytes, "lazy.tif");
    let bytesRead = 0;
    const slide = await openSlide({
      ...inner,
      read: (o, l) => {
        bytesRead += l;
        return inner.read(o, l);
      },
    });
    expect(bytesRead).toBeLessThan(8_000);
    await slide.readTile(0, 3, 3);
    expect(bytesRead).toBeLessThan(40_000);
    expect(tiff.bytes.length).toBeGreaterThan(200_000);
  });
});
