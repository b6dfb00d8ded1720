import { describe, expect, it } from "vitest";
import { type ByteSource, createMemorySource, openFileSource } from "../byte-source";
import { type Slide, openSlide } from "../slide";
import { fixturePath } from "../test-support/fixtures";
import { matchDeepZoomBuilder } from "../test-support/deep-zoom-match";
import { pyramidImages, writeTestTiff } from "../test-support/tiff-writer";
import { decodeJpeg, useBlockingCodecs } from "../codec/jpeg";
import { hasScaledJpegDecode } from "../codec/turbojpeg";
import { psnr } from "../test-support/pixels";
import { createTileCache } from "./cache";
import { type DeepZoomView, openDeepZoomView } from "./view";

async function compareWithBuilder(slide: Slide, view: DeepZoomView, quality: number, minPsnr = 40) {
  const match = await matchDeepZoomBuilder(slide, view, quality);
  expect(match.dziEqual).toBe(true);
  expect(match.passthroughDiffering).toEqual([]);
  expect(match.minPsnr, match.worst).toBeGreaterThanOrEqual(minPsnr);
  return match;
}

/** Counts decodeTile / readRawTile calls by level; `reads` is both, in order. */
function tracked(slide: Slide) {
  const decodes: string[] = [];
  const raws: string[] = [];
  const reads: string[] = [];
  const wrapped: Slide = {
    ...slide,
    decodeTile: (l, c, r, into) => {
      decodes.push(`${l}/${c}/${r}`);
      reads.push(`${l}/${c}/${r}`);
      return slide.decodeTile(l, c, r, into);
    },
    readRawTile: (l, c, r) => {
      raws.push(`${l}/${c}/${r}`);
      reads.push(`${l}/${c}/${r}`);
      return slide.readRawTile(l, c, r);
    },
  };
  return { slide: wrapped, decodes, raws, reads };
}

// The exact path (full decodes, 2×2 box shrink: the builder's arithmetic, so the builder's very
// bytes) is what the view does without libturbojpeg and for edge tiles; `exact` forces it.
const exact = { scaledDecode: false } as const;

describe("openDeepZoomView against buildDeepZoom", () => {
  it("a two-level JPEG pyramid: stored levels pass through, edges are cropped, the rest is halved", async () => {
    const slide = await openSlide(createMemorySource(writeTestTiff(pyramidImages(1000, 700, 256, 2, { quality: 85 })).bytes, "two.tif"));
    const view = openDeepZoomView(slide, exact);
    expect(view.tileSize).toBe(256);
    expect(view.maxLevel).toBe(10);
    expect(view.passthroughLevels).toEqual([9, 10]);
    expect(view.missingLevels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    const result = await compareWithBuilder(slide, view, 80);
    expect(result.passthrough).toBe(7); // 3×2 interior tiles at level 10, 1×1 at level 9
    expect(result.passthrough).toBe(result.tilesPassedThrough);
    expect(result.identical).toBe(result.computed); // same pixels, same encoder: same bytes
  });

  it("CMU-1-Small-Region.svs (Aperio, 240 px tiles, one level)", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
    const view = openDeepZoomView(slide, { quality: 75, ...exact });
    expect(view.tileSize).toBe(240);
    expect(view.passthroughLevels).toEqual([12]);
    const result = await compareWithBuilder(slide, view, 75);
    expect(result.passthrough).toBe(9 * 12);
    expect(result.identical).toBe(result.computed);
    await slide.close();
  });

  it("OME-TIFF crops (512 px tiles, levels in SubIFDs)", async () => {
    for (const name of ["OS-1-detail.ome.tif", "OS-2-ndpi.ome.tif"]) {
      const slide = await openSlide(await openFileSource(fixturePath(name)));
      const view = openDeepZoomView(slide, exact);
      expect(view.tileSize, name).toBe(512);
      const result = await compareWithBuilder(slide, view, 80);
      expect(result.passthrough, name).toBeGreaterThan(0);
      expect(result.minPsnr, name).toBeGreaterThanOrEqual(40);
      await slide.close();
    }
  });

  it("a deflate pyramid (no JPEG to pass through): every tile decoded and encoded", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("openslide-python_boxes.tiff")));
    const view = openDeepZoomView(slide);
    expect(view.tileSize).toBe(64);
    expect(view.passthroughLevels).toEqual([]);
    const result = await compareWithBuilder(slide, view, 80);
    expect(result.passthrough).toBe(0);
    expect(result.identical).toBe(result.computed);
    await slide.close();
  });

  it("a lower level with other tiles than level 0 is read region by region", async () => {
    const [base, half] = pyramidImages(1000, 700, 128, 2, { quality: 85 });
    const slide = await openSlide(createMemorySource(writeTestTiff([base!, { ...half!, tileSize: 96 }]).bytes, "mixed.tif"));
    const view = openDeepZoomView(slide, exact);
    expect(view.tileSize).toBe(128);
    expect(view.passthroughLevels).toEqual([10]);
    const result = await compareWithBuilder(slide, view, 80);
    expect(result.identical).toBe(result.computed);
    // Tiles that are not square: 254 px Deep Zoom tiles, nothing passes through.
    const odd = openDeepZoomView({ ...slide, metadata: { ...slide.metadata, levels: slide.metadata.levels.map((l) => ({ ...l, tileHeight: 64 })) } });
    expect(odd.tileSize).toBe(254);
    expect(odd.passthroughLevels).toEqual([]);
  });

  it("decodes the tiles below a stored JPEG level at half size (DCT scaling): comparable to the builder's", async () => {
    expect(hasScaledJpegDecode(), "libturbojpeg.so.0 (Debian libturbojpeg0) is needed: scripts/test.sh installs it").toBe(true);
    const slides = [
      await openSlide(createMemorySource(writeTestTiff(pyramidImages(2048, 1536, 256, 1, { quality: 85 })).bytes, "one.tif")),
      await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs"))),
      await openSlide(await openFileSource(fixturePath("OS-2-ndpi.ome.tif"))),
    ];
    for (const slide of slides) {
      const name = slide.metadata.name;
      // Before encoding, the two ways agree to ≥ 40 dB (a 2×2 box and libjpeg-turbo's reduced
      // IDCT are both plain halvings; Lanczos-3 differs from the box more, 35–53 dB): compared
      // at quality 100 on every interior tile one level below the source.
      const t = tracked(slide);
      const fast = openDeepZoomView(t.slide, { quality: 100 });
      const slow = openDeepZoomView(slide, { quality: 100, ...exact });
      const level = fast.maxLevel - 1;
      const cols = Math.floor(Math.ceil(fast.width / 2) / fast.tileSize);
      const rows = Math.floor(Math.ceil(fast.height / 2) / fast.tileSize);
      expect(cols * rows, name).toBeGreaterThan(0);
      for (let row = 0; row < rows; row++) {
        for (let col = 0; col < cols; col++) {
          const [a, b] = await Promise.all([fast.getTile(level, col, row), slow.getTile(level, col, row)]);
          expect(psnr(await decodeJpeg(a.bytes), await decodeJpeg(b.bytes)), `${name} ${level}/${col}_${row}`).toBeGreaterThanOrEqual(40);
        }
      }
      expect(t.decodes, name).toEqual([]); // raw tiles only: no full decode
      expect(t.raws.length, name).toBe(4 * cols * rows);
      // Encoded at the viewer's quality, tiles of two slightly different inputs meet JPEG's
      // quantisation apart: against the builder's tiles every computed tile is ≥ 35 dB.
      await compareWithBuilder(slide, openDeepZoomView(slide, { quality: 80 }), 80, 35);
      await slide.close();
    }
  });
});

describe("openDeepZoomView with codecs on this thread (useBlockingCodecs, as the tile service with a process per core)", () => {
  it("makes tiles below 4:2:0 source tiles from their YCbCr planes: close to the RGB way and comparable to the builder's", async () => {
    const slide = await openSlide(createMemorySource(writeTestTiff(pyramidImages(2048, 1536, 256, 1, { quality: 85 })).bytes, "one.tif"));
    const pooled = openDeepZoomView(slide, { quality: 80 });
    const level = pooled.maxLevel - 1;
    const addresses = [0, 1, 2].flatMap((row) => [0, 1, 2, 3].map((col) => ({ col, row })));
    const before = await Promise.all(addresses.map(({ col, row }) => pooled.getTile(level, col, row)));
    useBlockingCodecs(true);
    try {
      const here = openDeepZoomView(slide, { quality: 80 });
      let differing = 0;
      for (const [k, { col, row }] of addresses.entries()) {
        const a = await here.getTile(level, col, row);
        const b = before[k]!;
        if (!Buffer.from(a.bytes).equals(Buffer.from(b.bytes))) differing++; // another way: YCbCr planes, not RGB pixels
        expect(psnr(await decodeJpeg(a.bytes), await decodeJpeg(b.bytes)), `${level}/${col}_${row}`).toBeGreaterThanOrEqual(38);
      }
      expect(differing).toBeGreaterThan(0);
      await compareWithBuilder(slide, openDeepZoomView(slide, { quality: 80 }), 80, 35);
    } finally {
      useBlockingCodecs(false);
      await slide.close();
    }
  });
});

describe("openDeepZoomView requests", () => {
  let cached: ReturnType<typeof writeTestTiff> | undefined;
  const makeSlide = async (source?: (bytes: Buffer) => ByteSource) => {
    cached ??= writeTestTiff(pyramidImages(2048, 1536, 256, 1, { quality: 85 }));
    const tiff = cached;
    return { tiff, slide: await openSlide(source ? source(tiff.bytes) : createMemorySource(tiff.bytes, "one.tif")) };
  };

  it("answers NOT_FOUND for addresses outside the pyramid", async () => {
    const { slide } = await makeSlide();
    const view = openDeepZoomView(slide);
    expect(view.maxLevel).toBe(11);
    for (const [level, col, row] of [
      [-1, 0, 0],
      [12, 0, 0],
      [1.5, 0, 0],
      [11, 8, 0],
      [11, 0, 6],
      [11, -1, 0],
      [0, 1, 0],
      [Number.NaN, 0, 0],
      [11, 0.5, 0],
    ]) {
      await expect(view.getTile(level!, col!, row!), `${level}/${col}_${row}`).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    await expect(view.getTile(11, 7, 5)).resolves.toMatchObject({ passthrough: true });
  });

  it("computes low levels recursively: each source tile is read once, intermediate levels come from the cache", async () => {
    const { slide } = await makeSlide();
    const t = tracked(slide);
    const cache = createTileCache({ maxBytes: 256 * 2 ** 20 });
    const view = openDeepZoomView(t.slide, { cache, cacheKey: "one@1" });
    await view.getTile(0, 0, 0);
    expect(t.reads.length).toBe(8 * 6); // the whole level once, no tile twice
    expect(new Set(t.reads).size).toBe(t.reads.length);
    await Promise.all([view.getTile(10, 3, 2), view.getTile(9, 1, 1), view.getTile(3, 0, 0)]);
    expect(t.reads.length).toBe(48);
    // Another view of the same slide and version shares the cache.
    const again = tracked(slide);
    const second = openDeepZoomView(again.slide, { cache, cacheKey: "one@1" });
    await second.getTile(10, 2, 2);
    expect(again.reads).toEqual([]);
    expect(cache.bytes).toBeGreaterThan(0);
    cache.clear();
    expect(cache.bytes).toBe(0);
  });

  it("keeps the cache within its byte bound", async () => {
    const { slide } = await makeSlide();
    const cache = createTileCache({ maxBytes: 2 * 2 ** 20 });
    const view = openDeepZoomView(slide, { cache });
    for (let row = 0; row < 3; row++) for (let col = 0; col < 4; col++) await view.getTile(10, col, row);
    expect(cache.bytes).toBeGreaterThan(0);
    expect(cache.bytes).toBeLessThanOrEqual(2 * 2 ** 20);
  });

  it("shares one computation between concurrent requests for a tile", async () => {
    const { slide } = await makeSlide();
    const t = tracked(slide);
    const view = openDeepZoomView(t.slide);
    const tiles = await Promise.all(Array.from({ length: 10 }, () => view.getTile(10, 1, 1)));
    expect(t.reads.length).toBe(4);
    expect(new Set(tiles.map((tile) => tile.bytes)).size).toBe(1);
  });

  it("gives the same bytes whether tiles are asked for one at a time or all at once (buffers are reused)", async () => {
    const { slide } = await makeSlide();
    const addresses: [number, number, number][] = [];
    for (const [level, cols, rows] of [
      [11, 8, 6],
      [10, 4, 3],
      [9, 2, 2],
      [8, 1, 1],
    ] as const) {
      for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) addresses.push([level, col, row]);
    }
    const one = openDeepZoomView(slide);
    const sequential: Uint8Array[] = [];
    for (const [level, col, row] of addresses) sequential.push((await one.getTile(level, col, row)).bytes);
    const all = openDeepZoomView(slide, { cache: createTileCache({ maxBytes: 0 }) });
    const concurrent = await Promise.all(addresses.map(([level, col, row]) => all.getTile(level, col, row)));
    concurrent.forEach((tile, i) => {
      expect(Buffer.compare(Buffer.from(tile.bytes), Buffer.from(sequential[i]!)), addresses[i]!.join("/")).toBe(0);
    });
  });

  it("answers CORRUPT for damaged stored tiles and keeps serving the others", async () => {
    const { tiff } = await makeSlide();
    const bytes = Buffer.from(tiff.bytes);
    const probe = await openSlide(createMemorySource(bytes, "probe.tif"));
    const raw = await probe.readRawTile(0, 1, 1);
    // Without JPEGTables the raw tile is exactly the stored bytes: find them in the file.
    const at = bytes.indexOf(Buffer.from(raw.bytes));
    bytes.fill(0, at, at + 2); // no JPEG header: damaged
    const other = Buffer.from(await probe.readRawTile(0, 2, 1).then((t) => t.bytes));
    const otherAt = bytes.indexOf(other);
    bytes.fill(0, otherAt + other.length - 2, otherAt + other.length); // truncated: no EOI
    const slide = await openSlide(createMemorySource(bytes, "damaged.tif"));
    const view = openDeepZoomView(slide);
    await expect(view.getTile(11, 1, 1)).rejects.toMatchObject({ code: "CORRUPT" });
    await expect(view.getTile(11, 2, 1)).rejects.toMatchObject({ code: "CORRUPT" });
    await expect(view.getTile(10, 0, 0)).rejects.toMatchObject({ code: "CORRUPT" }); // computed from the damaged one
    await expect(view.getTile(11, 3, 3)).resolves.toMatchObject({ passthrough: true });
    await expect(view.getTile(10, 2, 2)).resolves.toMatchObject({ passthrough: false });
  });

  it("honours an aborted signal: stops waiting at once, while a request sharing the tile still gets it", async () => {
    let release = () => {};
    let gate = Promise.resolve();
    let reads = 0;
    const { slide } = await makeSlide((bytes) => ({
      ...createMemorySource(bytes, "slow.tif"),
      read: async (offset, length) => {
        reads++;
        await gate;
        return bytes.subarray(offset, offset + length);
      },
    }));
    await openDeepZoomView(slide).getTile(11, 0, 0); // tile tables loaded
    gate = new Promise<void>((resolve) => (release = resolve));
    const view = openDeepZoomView(slide);

    const before = new AbortController();
    before.abort();
    await expect(view.getTile(10, 0, 0, before.signal)).rejects.toMatchObject({ code: "IO_ERROR" });

    const readsAtStart = reads;
    const leaving = new AbortController();
    const staying = view.getTile(9, 0, 0);
    const left = view.getTile(9, 0, 0, leaving.signal);
    while (reads < readsAtStart + 16) await new Promise((resolve) => setImmediate(resolve));
    leaving.abort();
    await expect(left).rejects.toMatchObject({ code: "IO_ERROR" }); // while its reads still hang
    const alone = new AbortController();
    const lone = view.getTile(10, 3, 2, alone.signal);
    alone.abort();
    await expect(lone).rejects.toMatchObject({ code: "IO_ERROR" });
    release();
    await expect(staying).resolves.toMatchObject({ passthrough: false }); // the other request still gets its tile
  });
});
