import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMemorySource } from "../byte-source";
import { openSlide, openSlideAt } from "../slide";
import { fixturePath } from "../test-support/fixtures";

const work = await mkdtemp(join(tmpdir(), "wsi-detect-"));
afterAll(() => rm(work, { recursive: true, force: true }));

describe("format detection", () => {
  it("openSlideAt reads a single-file slide like openSlide", async () => {
    const slide = await openSlideAt(fixturePath("CMU-1-Small-Region.svs"));
    expect(slide.metadata).toMatchObject({ name: "CMU-1-Small-Region.svs", format: "aperio-svs", width: 2220 });
    expect((await slide.readTile(0, 0, 0)).width).toBe(240);
    await slide.close();
  });

  it("a folder without a slide, a missing path: one clear line each", async () => {
    await expect(openSlideAt(work)).rejects.toMatchObject({ code: "UNSUPPORTED_FORMAT", message: expect.stringMatching(/folder that holds no slide/) });
    await expect(openSlideAt(join(work, "nope.ndpi"))).rejects.toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/no such file/) });
  });

  it("names formats nobody here reads, and says what to do", async () => {
    const isyntax = join(work, "case-7.isyntax");
    await writeFile(isyntax, `<?xml version="1.0" encoding="UTF-8" ?>\n<DataObject ObjectType="DPUfsImport">${" ".repeat(200)}`);
    await expect(openSlideAt(isyntax)).rejects.toMatchObject({ code: "UNSUPPORTED_FORMAT", message: expect.stringMatching(/Philips iSyntax.*export it/) });
    const czi = createMemorySource(Buffer.from(`ZISRAWFILE${"\0".repeat(200)}`), "scan.czi");
    await expect(openSlide(czi)).rejects.toMatchObject({ code: "UNSUPPORTED_FORMAT", message: expect.stringMatching(/Zeiss CZI.*OME-TIFF/) });
    const text = createMemorySource(Buffer.from("just some notes, not a slide at all".repeat(5)), "notes.txt");
    await expect(openSlide(text)).rejects.toMatchObject({ code: "NOT_A_TIFF", message: expect.stringMatching(/not a TIFF-based slide.*NDPI/) });
  });
});
