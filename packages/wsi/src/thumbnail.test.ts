import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { createMemorySource } from "./byte-source";
import { openSlide } from "./slide";
import { fixturePath, pyramidImages, writeTestTiff } from "./test-support";
import jpegTurbo from "@julusian/jpeg-turbo";
import sharp from "sharp";
import { decodeJpegSync, encodeJpeg } from "./codec/jpeg";
import { cropJpegLossless, readJpegSize } from "./codec/turbojpeg";
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

  it("cuts a padded tile to the level's size without re-encoding: the tile's pixels", async () => {
    const { bytes } = writeTestTiff(pyramidImages(2048, 1536, 256, 4));
    const slide = await openSlide(createMemorySource(bytes, "padded.tif"));
    const jpeg = await makeThumbnailJpeg(slide, 256);
    const decoded = decodeJpegSync(jpeg);
    expect([decoded.width, decoded.height]).toEqual([256, 192]);
    // Today's path (decode, crop, encode) and the tile itself, decoded the same way.
    const tile = decodeJpegSync((await slide.readRawTile(3, 0, 0)).bytes);
    const reencoded = decodeJpegSync(await encodeJpeg(await makeThumbnail(slide, 256), 80));
    const row = 256 * 3;
    // Every row but the last is the tile's, exactly.
    expect(Buffer.compare(decoded.data.subarray(0, 191 * row), tile.data.subarray(0, 191 * row))).toBe(0);
    // The last row's 4:2:0 chroma is upsampled without the padding row below it: close, and
    // closer than the re-encode that was sent before.
    const worst = (image: Buffer, from: number, to: number) => {
      let max = 0;
      for (let i = from; i < to; i++) max = Math.max(max, Math.abs(image[i]! - tile.data[i]!));
      return max;
    };
    expect(worst(decoded.data, 191 * row, 192 * row)).toBeLessThanOrEqual(24);
    expect(worst(decoded.data, 191 * row, 192 * row)).toBeLessThan(worst(reencoded.data, 0, 192 * row));
  });

  it("decodes and encodes when the tile's JPEG is not of the tile's size (not cut)", async () => {
    const images = pyramidImages(2048, 1536, 256, 4);
    // A writer that stored the smallest level's tile taller than the tile (a decoder reads its top).
    const encode = (raw: Buffer, width: number, height: number) =>
      jpegTurbo.compressSync(Buffer.concat([raw, Buffer.alloc(width * 16 * 3, 255)]), {
        format: jpegTurbo.FORMAT_RGB,
        width,
        height: height + 16,
        quality: 90,
        subsampling: jpegTurbo.SAMP_420,
      });
    images[3] = { ...images[3]!, codec: { compression: 7, photometric: 6, encode } };
    const slide = await openSlide(createMemorySource(writeTestTiff(images).bytes, "short-tile.tif"));
    const raw = (await slide.readRawTile(3, 0, 0)).bytes;
    expect(readJpegSize(raw)).toEqual({ width: 256, height: 272 });
    const jpeg = await makeThumbnailJpeg(slide, 256);
    const decoded = decodeJpegSync(jpeg);
    expect([decoded.width, decoded.height]).toEqual([256, 192]);
    // Today's path: the level decoded and encoded at quality 80, byte for byte.
    expect(Buffer.compare(jpeg, await encodeJpeg(await makeThumbnail(slide, 256), 80))).toBe(0);
  });
});

describe("cropJpegLossless", () => {
  it("leaves CMYK (Adobe) and progressive JPEGs to the caller", async () => {
    const raw = await sharp({ create: { width: 64, height: 64, channels: 3, background: { r: 200, g: 120, b: 160 } } })
      .raw()
      .toBuffer();
    const image = sharp(raw, { raw: { width: 64, height: 64, channels: 3 } });
    const cmyk = await image.clone().toColourspace("cmyk").jpeg().toBuffer();
    const progressive = await image.clone().jpeg({ progressive: true }).toBuffer();
    const baseline = await image.clone().jpeg().toBuffer();
    expect(cropJpegLossless(cmyk, 40, 40)).toBeUndefined();
    expect(cropJpegLossless(progressive, 40, 40)).toBeUndefined();
    const cropped = cropJpegLossless(baseline, 40, 36);
    expect(readJpegSize(cropped!)).toEqual({ width: 40, height: 36 });
  });
});
