import { mkdtemp, open, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSlideAt } from "../slide";
import { type NdpiOptions, writeNdpi } from "../test-support/ndpi-writer";
import { pyramidImages, writeTestTiff } from "../test-support/tiff-writer";
import { buildDeepZoom, type DeepZoomOptions } from "./build";
import { planDeepZoomLevels, planPasses } from "./plan";
import { createFolderSink } from "./sink";
import { onThreads, planThreadJobs } from "./tile-threads";

const work = await mkdtemp(join(tmpdir(), "wsi-dz-threads-"));
afterAll(() => rm(work, { recursive: true, force: true }));

const ndpi: NdpiOptions = {
  levels: [
    { width: 2048, height: 1536, restartInterval: 32 },
    { width: 1024, height: 768, restartInterval: 16 },
    { width: 512, height: 384, restartInterval: 0 },
  ],
};
const slidePath = join(work, "slide.ndpi");
beforeAll(() => writeNdpi(slidePath, ndpi));

async function tree(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const level of await readdir(dir)) {
    for (const file of await readdir(join(dir, level))) files.set(`${level}/${file}`, await readFile(join(dir, level, file)));
  }
  return files;
}

async function tile(path: string, out: string, options: DeepZoomOptions) {
  const slide = await openSlideAt(path);
  try {
    return await buildDeepZoom(slide, createFolderSink(out), { name: "s", ...options });
  } finally {
    await slide.close();
  }
}

describe("buildDeepZoom on worker threads", () => {
  it("splits a one-level pass into runs of tile rows that cover it once, largest jobs first", () => {
    const levels = planDeepZoomLevels(16384, 12288, 254);
    const sources = [16384, 8192, 4096, 2048].map((w, index) => ({
      index,
      width: w,
      height: (w * 3) / 4,
      tileWidth: 512,
      tileHeight: 512,
      downsample: 16384 / w,
      compression: "jpeg",
    }));
    const jobs = planThreadJobs(planPasses(levels, sources), 2, 254);
    const sections = jobs.flatMap((j) => (j.kind === "section" && j.section.level.level === 14 ? [j.section] : []));
    expect(sections.length).toBe(3);
    const rows = sections.map((s) => [s.rowStart, s.rowEnd]).sort((a, b) => a[0]! - b[0]!);
    expect(rows[0]![0]).toBe(0);
    expect(rows.at(-1)![1]).toBe(levels[0]!.rows);
    for (let i = 1; i < rows.length; i++) expect(rows[i]![0]).toBe(rows[i - 1]![1]);
    expect(jobs.at(-1)).toMatchObject({ kind: "pass" }); // 2048 × 1536 down to 1 × 1: one job, the smallest
    expect(jobs.filter((j) => j.kind === "pass")).toHaveLength(1);
  });

  async function expectSameAsOnePass(path: string, name: string, threads: number, options: DeepZoomOptions = {}) {
    const single = await tile(path, join(work, `${name}-single-${threads}`), options);
    const threaded = await tile(path, join(work, `${name}-threads-${threads}`), { ...options, threads: onThreads(threads, path) });
    expect(threaded).toEqual(single);
    const a = await tree(join(work, `${name}-single-${threads}`, "s_files"));
    const b = await tree(join(work, `${name}-threads-${threads}`, "s_files"));
    expect(b.size).toBe(single.tilesWritten);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [file, bytes] of a) expect(b.get(file)!.equals(bytes), file).toBe(true);
  }

  it("writes the same bytes as one pass at a time: NDPI, on this thread and on two workers", async () => {
    await expectSameAsOnePass(slidePath, "ndpi", 0);
    await expectSameAsOnePass(slidePath, "ndpi", 2);
  });

  it("writes the same bytes from full-size JPEG edge tiles and from deflate tiles (decoded, then copied)", async () => {
    for (const compression of ["jpeg", "deflate"] as const) {
      const path = join(work, `pyramid-${compression}.tif`);
      await writeFile(path, writeTestTiff(pyramidImages(1000, 700, 128, 3, { compression })).bytes);
      await expectSameAsOnePass(path, compression, 1);
      await expectSameAsOnePass(path, compression, 0, { tileSize: 200, overlap: 2 });
    }
  });

  it("writes the same bytes where a source level is a pixel short of its Deep Zoom level (last column and row repeated)", async () => {
    const [full, half] = pyramidImages(1001, 701, 128, 2);
    const path = join(work, "short.tif");
    await writeFile(path, writeTestTiff([full!, { ...half!, width: 500, height: 350 }]).bytes); // Deep Zoom wants 501 × 351
    await expectSameAsOnePass(path, "short", 0);
    await expectSameAsOnePass(path, "short", 1, { tileSize: 100, overlap: 3 });
  });

  it("has its workers open the slide by path: a path that is not there fails the pyramid", async () => {
    const missing = join(work, "gone.ndpi");
    await expect(tile(slidePath, join(work, "gone"), { threads: onThreads(1, missing) })).rejects.toMatchObject({
      name: "WsiError",
      message: expect.stringContaining("gone.ndpi"),
    });
  });

  it("reports a damage found by a thread as the reader's error, and leaves no pyramid", async () => {
    const path = join(work, "damaged.ndpi");
    const written = await writeNdpi(path, { ...ndpi, omitMcuStarts: true });
    const file = await open(path, "r+");
    await file.write(Buffer.from([0xff, 0x00]), 0, 2, written.images[0]!.stripOffset + written.images[0]!.mcuStarts[5]! - 2);
    await file.close();
    const out = join(work, "damaged");
    await expect(tile(path, out, { threads: onThreads(2, path) })).rejects.toMatchObject({
      name: "WsiError",
      code: "CORRUPT",
      message: expect.stringMatching(/restart markers where a 2048 × 1536 image needs/),
    });
    expect((await readdir(out).catch(() => [])).filter((f) => f.endsWith(".dzi"))).toEqual([]);
  });
});
