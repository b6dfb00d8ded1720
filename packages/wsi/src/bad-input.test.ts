import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMemorySource, openFileSource } from "./byte-source";
import { buildDeepZoom } from "./deepzoom/build";
import { createFolderSink } from "./deepzoom/sink";
import type { WsiErrorCode } from "./errors";
import { openSlide } from "./slide";
import { pyramidImages, tissuePixel, writeTestTiff } from "./test-support/tiff-writer";
import { nonWsiDicom } from "./test-support/dicom-series";

const work = await mkdtemp(join(tmpdir(), "wsi-bad-"));
afterAll(() => rm(work, { recursive: true, force: true }));

function good() {
  return writeTestTiff(pyramidImages(1024, 768, 256, 2));
}

async function expectRefused(bytes: Uint8Array, code: WsiErrorCode, message: RegExp) {
  const attempt = (async () => {
    const slide = await openSlide(createMemorySource(bytes, "bad.tif"));
    // Some damage only shows when the tiles are read: tiling must fail cleanly then.
    const out = join(work, `out-${Math.random().toString(36).slice(2)}`);
    try {
      await buildDeepZoom(slide, createFolderSink(out));
    } finally {
      const left = await readdir(out).catch(() => []);
      expect(left.filter((f) => f.endsWith(".dzi"))).toEqual([]);
    }
  })();
  await expect(attempt).rejects.toMatchObject({ name: "WsiError", code, message: expect.stringMatching(message) });
}

describe("bad input is refused with a typed, clear error", () => {
  it("not a TIFF at all", async () => {
    await expectRefused(Buffer.from("%PDF-1.7 this is a report, not a slide.........."), "NOT_A_TIFF", /not a TIFF-based slide/);
    await expectRefused(Buffer.alloc(4), "NOT_A_TIFF", /only 4 bytes long/);
  });

  it("a DICOM file that is no slide says so", async () => {
    await expectRefused(nonWsiDicom(), "UNSUPPORTED_FORMAT", /DICOM file but not a whole-slide image/);
  });

  it("a truncated file (cut inside the tile data)", async () => {
    const tiff = good();
    // The IFDs sit after the tile data they describe; cut the last level's tiles off but keep the first IFD.
    const firstIfdEnd = tiff.directories[0]!.offset + 400;
    const cut = tiff.bytes.subarray(0, Math.max(firstIfdEnd, tiff.bytes.length - 2000));
    await expectRefused(cut, "TRUNCATED", /truncated/);
  });

  it("a file cut inside its header or directory", async () => {
    const tiff = good();
    await expectRefused(tiff.bytes.subarray(0, tiff.directories[0]!.offset + 20), "TRUNCATED", /truncated|past the end/);
  });

  it("tile offsets that point past the end of the file", async () => {
    const tiff = good();
    const bytes = Buffer.from(tiff.bytes);
    const entry = tiff.directories[0]!.entries.get(324)!; // TileOffsets → out-of-line array
    const arrayAt = bytes.readUInt32LE(entry + 8);
    bytes.writeUInt32LE(bytes.length + 10_000, arrayAt + 4); // second tile far past the end
    await expectRefused(bytes, "TRUNCATED", /ends at byte/);
  });

  it("a directory chain that loops", async () => {
    const tiff = good();
    const bytes = Buffer.from(tiff.bytes);
    const second = tiff.directories[1]!;
    const count = bytes.readUInt16LE(second.offset);
    bytes.writeUInt32LE(tiff.directories[0]!.offset, second.offset + 2 + count * 12); // next IFD → first again
    await expectRefused(bytes, "CORRUPT", /loops/);
  });

  it("absurd dimensions meant to exhaust memory", async () => {
    const tiff = good();
    const bytes = Buffer.from(tiff.bytes);
    bytes.writeUInt32LE(3_000_000_000, tiff.directories[0]!.entries.get(256)! + 8); // ImageWidth
    await expectRefused(bytes, "TOO_LARGE", /px per side/);
  });

  it("a forged entry count or tile count", async () => {
    const tiff = good();
    const bytes = Buffer.from(tiff.bytes);
    bytes.writeUInt32LE(1_000_000_000, tiff.directories[0]!.entries.get(324)! + 4); // TileOffsets count
    await expectRefused(bytes, "CORRUPT", /past the end of the file/);
    const tiny = writeTestTiff([{ width: 32, height: 32, tileSize: 16, pixel: tissuePixel, compression: "none" }]);
    const forged = Buffer.from(tiny.bytes);
    forged.writeUInt32LE(400_000, tiny.directories[0]!.entries.get(256)! + 8);
    forged.writeUInt32LE(400_000, tiny.directories[0]!.entries.get(257)! + 8);
    await expectRefused(forged, "TOO_LARGE", /tiles; refusing/);
    const many = Buffer.from(tiff.bytes);
    many.writeUInt16LE(60_000, tiff.directories[0]!.offset);
    await expectRefused(many, "CORRUPT", /claims 60000 entries/);
  });

  it("unsupported compression (WebP tiles)", async () => {
    const tiff = good();
    const bytes = Buffer.from(tiff.bytes);
    bytes.writeUInt16LE(50001, tiff.directories[0]!.entries.get(259)! + 8);
    await expectRefused(bytes, "UNSUPPORTED_COMPRESSION", /webp compression, which is not supported; convert/);
  });

  it("JPEG tiles labelled JPEG 2000", async () => {
    const tiff = good();
    const bytes = Buffer.from(tiff.bytes);
    bytes.writeUInt16LE(33005, tiff.directories[0]!.entries.get(259)! + 8);
    await expectRefused(bytes, "CORRUPT", /JPEG 2000/);
  });

  it("a damaged JPEG tile", async () => {
    const tiff = good();
    const bytes = Buffer.from(tiff.bytes);
    const arrayAt = bytes.readUInt32LE(tiff.directories[0]!.entries.get(324)! + 8);
    const tileAt = bytes.readUInt32LE(arrayAt + 4 * 5);
    bytes.fill(0x00, tileAt, tileAt + 40); // destroy the JPEG header of tile 5
    await expectRefused(bytes, "CORRUPT", /JPEG/);
  });

  it("unreadable paths: missing file, a folder", async () => {
    await expect(openFileSource(join(work, "nope.svs"))).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/no such file/) });
    await expect(openFileSource(work)).rejects.toMatchObject({ code: "IO_ERROR", message: expect.stringMatching(/folder/) });
  });

  it("an empty file", async () => {
    const path = join(work, "empty.svs");
    await writeFile(path, "");
    await expect(openFileSource(path).then(openSlide)).rejects.toMatchObject({ code: "NOT_A_TIFF" });
  });
});
