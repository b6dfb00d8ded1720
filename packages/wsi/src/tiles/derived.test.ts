import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMemorySource, openFileSource } from "../byte-source";
import { decodeJpeg } from "../codec/jpeg";
import { type Slide, openSlide } from "../slide";
import { matchDeepZoomBuilder } from "../test-support/deep-zoom-match";
import { fixturePath } from "../test-support/fixtures";
import { psnr } from "../test-support/pixels";
import { pyramidImages, writeTestTiff } from "../test-support/tiff-writer";
import { writeDerivedPyramid } from "./derived";
import { openDeepZoomView } from "./view";

const work = await mkdtemp(join(tmpdir(), "wsi-derived-"));
afterAll(() => rm(work, { recursive: true, force: true }));

async function derive(slide: Slide, options: Parameters<typeof writeDerivedPyramid>[2] = {}) {
  const chunks: Uint8Array[] = [];
  const result = await writeDerivedPyramid(slide, async (chunk) => void chunks.push(Buffer.from(chunk)), options);
  const bytes = Buffer.concat(chunks);
  return { result, bytes, chunks, derived: result.levels ? await openSlide(createMemorySource(bytes, "derived.tif")) : undefined };
}

const oneLevel = writeTestTiff(pyramidImages(2048, 1536, 256, 1, { quality: 85 }));

describe("writeDerivedPyramid", () => {
  it("writes the missing levels as one tiled BigTIFF that openSlide reads back", async () => {
    const slide = await openSlide(createMemorySource(oneLevel.bytes, "one.tif"));
    const seen: number[] = [];
    const { result, bytes, chunks, derived } = await derive(slide, { onProgress: (f) => seen.push(f) });
    const view = openDeepZoomView(slide);
    expect(view.missingLevels).toEqual([...Array(11).keys()]); // 0..10; level 11 is the source
    expect(result).toMatchObject({ levels: 11, bytes: bytes.length });
    expect(result.tiles).toBe(12 + 4 + 9); // 4×3 and 2×2 tiles, then nine single-tile levels
    expect(seen.at(-1)).toBe(1);
    expect(chunks.every((c) => c.length <= 1024 * 1024 + 64 * 1024)).toBe(true);
    expect(derived!.metadata.format).toBe("generic-tiff");
    expect(derived!.metadata.bigTiff).toBe(true);
    expect(derived!.metadata.levels.map((l) => [l.width, l.height, l.tileWidth, l.compression])).toEqual(
      [
        [1024, 768],
        [512, 384],
        [256, 192],
        [128, 96],
        [64, 48],
        [32, 24],
        [16, 12],
        [8, 6],
        [4, 3],
        [2, 2],
        [1, 1],
      ].map(([w, h]) => [w, h, 256, "jpeg"]),
    );
  });

  it("serves the same tiles with the derived pyramid, passing its tiles through", async () => {
    const slide = await openSlide(createMemorySource(oneLevel.bytes, "one.tif"));
    const { derived } = await derive(slide);
    const plain = openDeepZoomView(slide, { scaledDecode: false });
    const view = openDeepZoomView(slide, { derived });
    expect(view.passthroughLevels).toEqual([...Array(12).keys()]);
    expect(view.missingLevels).toEqual(plain.missingLevels);
    // Interior derived tiles are the very bytes the view computes without it by the builder's arithmetic.
    const stored = await view.getTile(10, 1, 1);
    expect(stored.passthrough).toBe(true);
    expect(Buffer.compare(Buffer.from(stored.bytes), Buffer.from((await plain.getTile(10, 1, 1)).bytes))).toBe(0);
    const match = await matchDeepZoomBuilder(slide, view, 80);
    expect(match.dziEqual).toBe(true);
    expect(match.passthroughDiffering).toEqual([]);
    expect(match.passthrough).toBe(48 + 12 + 2); // every whole tile of levels 11, 10 and 9
    // Edge tiles are cropped from a padded derived tile, or computed from the source when that is
    // cheap, by default from half-size decodes: within JPEG's noise of the builder's tiles.
    expect(match.minPsnr, match.worst).toBeGreaterThanOrEqual(35);
    const exact = await matchDeepZoomBuilder(slide, openDeepZoomView(slide, { derived, scaledDecode: false }), 80);
    expect(exact.minPsnr, exact.worst).toBeGreaterThanOrEqual(40);
  });

  it("derives the levels between an Aperio slide's own, and OpenSlide reads the file", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
    const { result, bytes, derived } = await derive(slide, { quality: 75 });
    expect(result.levels).toBe(12);
    const view = openDeepZoomView(slide, { derived, quality: 75, scaledDecode: false });
    const match = await matchDeepZoomBuilder(slide, view, 75);
    expect(match.passthroughDiffering).toEqual([]);
    expect(match.minPsnr, match.worst).toBeGreaterThanOrEqual(40);
    // By default the tiles computed from the source decode it at half size: within JPEG's noise of the builder's.
    const scaled = await matchDeepZoomBuilder(slide, openDeepZoomView(slide, { derived, quality: 75 }), 75);
    expect(scaled.passthroughDiffering).toEqual([]);
    expect(scaled.minPsnr, scaled.worst).toBeGreaterThanOrEqual(35);
    expect(match.passthrough).toBeGreaterThan(9 * 12);

    // An independent reader: OpenSlide opens it as a generic tiled TIFF, pixels agree with ours.
    const file = join(work, "cmu-derived.tif");
    await writeFile(file, bytes);
    const properties = execFileSync("openslide-show-properties", [file], { encoding: "utf8" });
    expect(properties).toContain("openslide.vendor: 'generic-tiff'");
    expect(properties).toContain(`openslide.level-count: '${result.levels}'`);
    expect(properties).toContain("openslide.level[0].width: '1110'");
    const png = join(work, "region.png");
    execFileSync("openslide-write-png", [file, "0", "0", "1", "240", "240", png]);
    const sharp = (await import("sharp")).default;
    const { data, info } = await sharp(await readFile(png))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const ours = await derived!.readTile(1, 0, 0);
    expect(psnr({ width: info.width, height: info.height, data }, ours)).toBeGreaterThan(45);
    await slide.close();
  });

  it("with a derived pyramid, a low tile of a one-level slide reads a few derived tiles, not the whole slide", async () => {
    // 32 px tiles: the 1024 × 768 level is 768 source tiles, more than a computed tile may read.
    const slide = await openSlide(createMemorySource(writeTestTiff(pyramidImages(1024, 768, 32, 1, { quality: 85 })).bytes, "fine.tif"));
    const { derived } = await derive(slide);
    const source: Slide = {
      ...slide,
      decodeTile: (...args: Parameters<Slide["decodeTile"]>) => {
        reads++;
        return slide.decodeTile(...args);
      },
      readRawTile: (...args: Parameters<Slide["readRawTile"]>) => {
        reads++;
        return slide.readRawTile(...args);
      },
    };
    let reads = 0;
    const view = openDeepZoomView(source, { derived });
    const low = await view.getTile(4, 0, 0); // 16 × 12 px: an edge tile, cropped from the derived level
    expect(low.passthrough).toBe(false);
    expect(reads).toBe(0);
    const exact = await decodeJpeg((await openDeepZoomView(slide).getTile(4, 0, 0)).bytes);
    expect(psnr(await decodeJpeg(low.bytes), exact)).toBeGreaterThan(30);
    await view.getTile(6, 1, 1); // 64 × 48 level, 32 × 16 edge tile over 16 × 8 source tiles: exact
    expect(reads).toBe(128);
  });

  it("computes the levels once when the destination can patch the header (directories last)", async () => {
    const slide = await openSlide(createMemorySource(oneLevel.bytes, "one.tif"));
    const chunks: Buffer[] = [];
    let header: Uint8Array | undefined;
    const decodes: number[] = [];
    const counted: Slide = {
      ...slide,
      decodeTile: (l, c, r, into) => {
        decodes.push(l);
        return slide.decodeTile(l, c, r, into);
      },
    };
    const result = await writeDerivedPyramid(counted, async (chunk) => void chunks.push(Buffer.from(chunk)), {
      patchHeader: async (bytes) => {
        header = bytes;
      },
    });
    expect(decodes.length).toBe(48); // every source tile once (two passes would read each twice)
    const bytes = Buffer.concat(chunks);
    expect(result.bytes).toBe(bytes.length);
    expect(header!.length).toBe(16);
    Buffer.from(header!).copy(bytes, 0);
    const once = await openSlide(createMemorySource(bytes, "once.tif"));
    const { derived: twice } = await derive(slide);
    expect(once.metadata.levels.map((l) => [l.width, l.height])).toEqual(twice!.metadata.levels.map((l) => [l.width, l.height]));
    for (const [level, col, row] of [
      [0, 0, 0],
      [0, 3, 2],
      [1, 1, 1],
      [10, 0, 0],
    ]) {
      expect(
        Buffer.compare(Buffer.from((await once.readRawTile(level!, col!, row!)).bytes), Buffer.from((await twice!.readRawTile(level!, col!, row!)).bytes)),
      ).toBe(0);
    }
    const file = join(work, "once.tif");
    await writeFile(file, bytes);
    expect(execFileSync("openslide-show-properties", [file], { encoding: "utf8" })).toContain(`openslide.level-count: '${result.levels}'`);
  });

  it("writes nothing when the source has every level", async () => {
    const full = writeTestTiff(pyramidImages(512, 512, 256, 10));
    const complete = await openSlide(createMemorySource(full.bytes, "full.tif"));
    expect(openDeepZoomView(complete).missingLevels).toEqual([]);
    expect((await derive(complete)).result).toEqual({ levels: 0, bytes: 0, tiles: 0 });
  });

  it("stops on a damaged source tile or an aborted signal, with a clear error", async () => {
    const bytes = Buffer.from(oneLevel.bytes);
    const probe = await openSlide(createMemorySource(bytes, "probe.tif"));
    const raw = Buffer.from((await probe.readRawTile(0, 3, 2)).bytes);
    bytes.fill(0, bytes.indexOf(raw), bytes.indexOf(raw) + 2);
    const damaged = await openSlide(createMemorySource(bytes, "damaged.tif"));
    await expect(derive(damaged)).rejects.toMatchObject({ code: "CORRUPT" });

    const slide = await openSlide(createMemorySource(oneLevel.bytes, "one.tif"));
    const controller = new AbortController();
    let writes = 0;
    const run = writeDerivedPyramid(slide, async () => void writes++, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(run).rejects.toMatchObject({ code: "IO_ERROR" });
    expect(writes).toBe(0); // aborted during the measuring pass: nothing half written
  });

  it("keeps decoded pixels of the derived levels equal to halving the source", async () => {
    const slide = await openSlide(createMemorySource(oneLevel.bytes, "one.tif"));
    const { derived } = await derive(slide, { quality: 95 });
    const plain = openDeepZoomView(slide, { quality: 95, scaledDecode: false });
    const fromDerived = await derived!.readTile(0, 2, 1);
    const computed = await decodeJpeg((await plain.getTile(10, 2, 1)).bytes);
    expect(psnr(fromDerived, computed)).toBe(Infinity);
  });
});
