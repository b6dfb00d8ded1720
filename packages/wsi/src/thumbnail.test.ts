import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { createMemorySource } from "./byte-source";
import { openSlide } from "./slide";
import { fixturePath, pyramidImages, writeTestTiff } from "./test-support";
import { decodeJpegSync } from "./codec/jpeg";
import { makeThumbnail, makeThumbnailJpeg } from "./thumbnail";

describe("makeThumbnail", () => {
  it("assembles the smallest level from its tiles and halves it below the limit", async () => {
    const { bytes } = writeTestTiff(pyramidImages(2000, 1200, 256, 3, { compression: "deflate" }));
    const slide = await openSlide(createMemorySource(bytes, "pyramid.tif"));
    const thumb = await makeThumbnail(slide, 256);
    // Smallest level 500 × 300 → halved once.
    expect([thumb.width, thumb.height]).toEqual([250, 150]);
    // Pixels come from the right place: the smallest level's tile at (300, 200) matches the halved image at (150, 100).
    const tile = await slide.readTile(2, 1, 0);
    const at = (100 * 2 * tile.width + (300 - 256)) * 3;
    const px = (100 * 250 + 150) * 3;
    expect(Math.abs(thumb.data[px]! - tile.data[at]!)).toBeLessThan(40);
    expect(thumb.data.length).toBe(250 * 150 * 3);
  });

  it("takes the smallest level at least as large as the thumbnail, not a pyramid's 1-pixel tip", async () => {
    const { bytes } = writeTestTiff(pyramidImages(2048, 1536, 256, 12, { compression: "deflate" }));
    const slide = await openSlide(createMemorySource(bytes, "deep.tif"));
    expect(slide.metadata.levels.at(-1)!.width).toBe(1);
    const thumb = await makeThumbnail(slide, 256);
    // 2048 → … → 256 × 192 is the smallest level of at least 256 px.
    expect([thumb.width, thumb.height]).toEqual([256, 192]);
  });

  it("uses an Aperio file's own thumbnail image", async () => {
    const slide = await openSlide(createMemorySource(await readFile(fixturePath("CMU-1-Small-Region.svs")), "cmu.svs"));
    const own = slide.metadata.associated.find((a) => a.name === "thumbnail");
    const thumb = await makeThumbnail(slide, 200);
    expect(Math.max(thumb.width, thumb.height)).toBeLessThanOrEqual(200);
    expect(own).toBeDefined();
    expect(thumb.width).toBe(Math.ceil(own!.width / 2 ** Math.ceil(Math.log2(Math.max(own!.width, own!.height) / 200))));
  });
});

describe("makeThumbnailJpeg", () => {
  it("sends a smallest level stored as one JPEG tile of its exact size as it is", async () => {
    const { bytes } = writeTestTiff(pyramidImages(2048, 2048, 256, 4));
    const slide = await openSlide(createMemorySource(bytes, "square.tif"));
    const jpeg = await makeThumbnailJpeg(slide, 256);
    expect(Buffer.compare(jpeg, Buffer.from((await slide.readRawTile(3, 0, 0)).bytes))).toBe(0);
    const decoded = decodeJpegSync(jpeg);
    expect([decoded.width, decoded.height]).toEqual([256, 256]);
  });

  it("encodes the thumbnail when the level's tile is larger than the level (padded), matching makeThumbnail", async () => {
    const { bytes } = writeTestTiff(pyramidImages(2048, 1536, 256, 4));
    const slide = await openSlide(createMemorySource(bytes, "padded.tif"));
    const jpeg = await makeThumbnailJpeg(slide, 256);
    expect(Buffer.compare(jpeg, Buffer.from((await slide.readRawTile(3, 0, 0)).bytes))).not.toBe(0);
    const decoded = decodeJpegSync(jpeg);
    const expected = await makeThumbnail(slide, 256);
    expect([decoded.width, decoded.height]).toEqual([256, 192]);
    // The level's bottom row, not the tile's padding below it.
    const px = (191 * 256 + 128) * 3;
    expect(Math.abs(decoded.data[px]! - expected.data[px]!)).toBeLessThan(24);
    const tile = await slide.readTile(3, 0, 0);
    expect(Math.abs(expected.data[px]! - tile.data[px]!)).toBe(0);
  });
});
