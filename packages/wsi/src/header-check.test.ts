import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { HEADER_BYTES, checkSlideHeader } from "./header-check";
import { fixturePath } from "./test-support/fixtures";
import { pyramidImages, writeTestTiff } from "./test-support/tiff-writer";

const head = (bytes: Uint8Array) => bytes.subarray(0, HEADER_BYTES);

describe("checkSlideHeader", () => {
  it("takes real slides from their first 64 KiB", async () => {
    for (const name of ["CMU-1-Small-Region.svs", "OS-1-detail.ome.tif", "openslide-python_boxes.tiff"]) {
      const bytes = await readFile(fixturePath(name));
      expect(await checkSlideHeader(head(bytes), bytes.length, name), name).toBeUndefined();
    }
  });

  it("refuses a file that is not a TIFF at once, saying so", async () => {
    const text = Buffer.from("Pathology report, scanned to text by mistake. ".repeat(100));
    expect(await checkSlideHeader(head(text), text.length, "report.svs")).toMatchObject({ code: "NOT_A_TIFF", message: expect.stringMatching(/not a TIFF/i) });
  });

  it("refuses a TIFF whose first directory lies past the end of the file", async () => {
    const bytes = Buffer.from(writeTestTiff(pyramidImages(512, 512, 256, 1)).bytes);
    bytes.writeUInt32LE(bytes.length + 1000, 4); // first IFD offset
    expect(await checkSlideHeader(head(bytes), bytes.length, "cut.tif")).toMatchObject({ code: expect.stringMatching(/TRUNCATED|CORRUPT/) });
  });

  it("cannot judge what lies past the header, and does not refuse for it", async () => {
    const bytes = Buffer.from(writeTestTiff(pyramidImages(2048, 2048, 256, 1, { compression: "none" })).bytes);
    expect(bytes.length).toBeGreaterThan(HEADER_BYTES);
    expect(await checkSlideHeader(head(bytes), bytes.length, "big.tif")).toBeUndefined();
  });
});
