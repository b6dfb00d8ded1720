import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import sharp from "sharp";
import { afterAll, describe, expect, it } from "vitest";
import { createMemorySource, openFileSource } from "../byte-source";
import { type RgbImage, cropImage } from "../image";
import { type Slide, openSlide, openSlideAt } from "../slide";
import { writeTestDicomSeries } from "../test-support/dicom-series";
import { fixturePath } from "../test-support/fixtures";
import { psnr } from "../test-support/pixels";
import { writeDicomSeries } from "./write-series";

const work = await mkdtemp(join(tmpdir(), "pathx-dicom-read-"));
afterAll(() => rm(work, { recursive: true, force: true }));

describe("reading DICOM WSI fixtures", () => {
  it("reads a JPEG baseline TILED_FULL instance as DCMTK decodes it", async () => {
    const path = fixturePath("openslide-python_boxes_0.dcm");
    const slide = await openSlideAt(path);
    expect(slide.metadata).toMatchObject({ format: "dicom", width: 16, height: 16, mppX: 0.499, mppY: 0.499, objectivePower: 20 });
    expect(slide.metadata.levels).toEqual([{ index: 0, width: 16, height: 16, tileWidth: 64, tileHeight: 64, downsample: 1, compression: "jpeg" }]);
    const png = join(work, "boxes.png");
    execFileSync("dcmj2pnm", ["+on", path, png]);
    const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const reference: RgbImage = { width: info.width, height: info.height, data };
    const tile = await slide.decodeTile(0, 0, 0);
    expect(psnr(tile, reference)).toBeGreaterThan(40);
    expect((await slide.readTile(0, 0, 0)).width).toBe(16); // cropped to the image
    const raw = await slide.readRawTile(0, 0, 0);
    expect(raw.kind).toBe("jpeg");
    await slide.close();
  });

  it("reads uncompressed frames exactly as pydicom does", async () => {
    const path = fixturePath("highdicom_sm_image.dcm");
    const slide = await openSlide(await openFileSource(path));
    expect(slide.metadata.levels[0]).toMatchObject({ width: 50, height: 50, tileWidth: 10, tileHeight: 10, compression: "none" });
    const script = "import sys, pydicom; d = pydicom.dcmread(sys.argv[1]); sys.stdout.buffer.write(d.pixel_array.tobytes())";
    const frames = execFileSync("/usr/bin/python3", ["-c", script, path], { maxBuffer: 1 << 24 });
    for (const [col, row] of [
      [0, 0],
      [2, 3],
      [4, 4],
    ] as const) {
      const index = row * 5 + col;
      const tile = await slide.readTile(0, col, row);
      expect(tile.data.equals(frames.subarray(index * 300, (index + 1) * 300))).toBe(true);
    }
    await slide.close();
  });
});

async function expectMatchesTruth(
  slide: Slide,
  frame: (level: number, col: number, row: number) => Promise<RgbImage>,
  omitted: (c: number, r: number) => boolean = () => false,
) {
  for (const level of slide.metadata.levels) {
    for (let row = 0; row * level.tileHeight < level.height; row++) {
      for (let col = 0; col * level.tileWidth < level.width; col++) {
        const tile = await slide.readTile(level.index, col, row);
        if (level.index === 0 && omitted(col, row)) {
          expect(tile.data.every((v) => v === 255)).toBe(true); // not scanned: white
          continue;
        }
        const written = await frame(level.index, col, row);
        expect(tile.data.equals(cropImage(written, 0, 0, tile.width, tile.height).data)).toBe(true);
      }
    }
  }
}

describe("reading DICOM WSI series folders", () => {
  it.each([
    ["TILED_FULL, Extended Offset Table, with a label", { layout: { offsetTable: "extended" as const }, label: true }],
    ["TILED_FULL, Basic Offset Table, level 0 a concatenation of 3 instances", { concatenationParts: 3 }],
    ["TILED_FULL, no offset table, frames over 3 fragments", { layout: { offsetTable: "empty" as const, fragmentsPerFrame: 3 } }],
    [
      "TILED_SPARSE with unscanned tiles, no offset table",
      { omitTile: (c: number, r: number) => (c + r) % 3 === 0, layout: { offsetTable: "empty" as const } },
    ],
    ["TILED_FULL, JPEG 2000 frames (YBR_ICT)", { jpeg2000: true }],
    [
      "TILED_SPARSE in a concatenation, Basic Offset Table, 2 fragments a frame",
      { omitTile: (c: number, r: number) => c === r, concatenationParts: 2, layout: { fragmentsPerFrame: 2 } },
    ],
  ])("%s", async (_label, options) => {
    const written = await writeTestDicomSeries(join(work, `series-${Math.random().toString(36).slice(2)}`), {
      width: 1000,
      height: 700,
      tileSize: 128,
      levels: 3,
      ...options,
    });
    const slide = await openSlideAt(written.dir);
    expect(slide.metadata.levels.map((l) => [l.width, l.height, l.tileWidth])).toEqual([
      [1000, 700, 128],
      [500, 350, 128],
      [250, 175, 128],
    ]);
    expect(slide.metadata.mppX).toBeCloseTo(0.25, 6);
    expect(slide.metadata.associated.map((a) => a.name)).toEqual("label" in options ? ["label"] : []);
    await expectMatchesTruth(slide, written.frame, "omitTile" in options ? options.omitTile : undefined);
    if ("label" in options) expect((await slide.readAssociated("label")).width).toBe(128);
    await slide.close();
  });

  it("opens one instance from memory (the hub's S3 path) and its level from a file", async () => {
    const written = await writeTestDicomSeries(join(work, "single"), { width: 300, height: 200, tileSize: 64 });
    const slide = await openSlide(createMemorySource(await readFile(written.files[0]!), "level-0.dcm"));
    expect(slide.metadata.levels).toHaveLength(1);
    await expectMatchesTruth(slide, written.frame);
    await slide.close();
  });
});

describe("round trip: pathx dicom, then read back", () => {
  it("gives back an SVS tile for tile: the same JPEG bytes and pixels", async () => {
    const source = await openSlideAt(fixturePath("CMU-1-Small-Region.svs"));
    const out = join(work, "round-trip-svs");
    await writeDicomSeries(source, out, { includeLabel: true });
    const copy = await openSlideAt(out);
    expect(copy.metadata.levels).toEqual(source.metadata.levels.map((l) => ({ ...l })));
    expect(copy.metadata).toMatchObject({ width: 2220, height: 2967, mppX: 0.499, objectivePower: 20 });
    expect(copy.metadata.associated.map((a) => a.name).sort()).toEqual(["label", "macro"]);
    const level = source.metadata.levels[0]!;
    for (let row = 0; row * level.tileHeight < level.height; row++) {
      for (let col = 0; col * level.tileWidth < level.width; col++) {
        const [a, b] = [await source.readRawTile(0, col, row), await copy.readRawTile(0, col, row)];
        expect(Buffer.from(b.bytes).equals(Buffer.from(a.bytes))).toBe(true);
      }
    }
    const [a, b] = [await source.readTile(0, 3, 5), await copy.readTile(0, 3, 5)];
    expect(b.data.equals(a.data)).toBe(true);
    await Promise.all([source.close(), copy.close()]);
  });

  // The boxes are saturated colour edges: the 4:2:2 chroma subsampling DICOM's YBR_FULL_422 implies costs them most.
  it("gives back a re-encoded deflate pyramid within JPEG loss, every level", async () => {
    const source = await openSlideAt(fixturePath("openslide-python_boxes.tiff"));
    const out = join(work, "round-trip-boxes");
    await writeDicomSeries(source, out, { mpp: 0.25, quality: 95 });
    const copy = await openSlideAt(out);
    expect(copy.metadata.levels.map((l) => [l.width, l.height, l.tileWidth])).toEqual(source.metadata.levels.map((l) => [l.width, l.height, l.tileWidth]));
    for (const level of source.metadata.levels) {
      for (let row = 0; row * level.tileHeight < level.height; row++) {
        for (let col = 0; col * level.tileWidth < level.width; col++) {
          expect(psnr(await copy.readTile(level.index, col, row), await source.readTile(level.index, col, row))).toBeGreaterThan(24);
        }
      }
    }
    await Promise.all([source.close(), copy.close()]);
  });
});
