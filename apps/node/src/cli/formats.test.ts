import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { openslideProperties, writeMrxs, writeNdpi, writePhilipsTiff, writeVms } from "@pathx/wsi/test-support";

const bin = new URL("../../bin/pathx.js", import.meta.url).pathname;
const work = await mkdtemp(join(tmpdir(), "pathx-formats-"));
afterAll(() => rm(work, { recursive: true, force: true }));

async function pathx(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: work });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("pathx info and tile on every format", () => {
  it("Hamamatsu NDPI, natively", async () => {
    const slide = join(work, "case.ndpi");
    await writeNdpi(slide, {
      levels: [
        { width: 2048, height: 1024, restartInterval: 32 },
        { width: 1024, height: 512, restartInterval: 0 },
      ],
      macro: { width: 300, height: 100 },
    });
    const info = await pathx("info", slide);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({
      format: "hamamatsu-ndpi",
      vendor: "hamamatsu",
      width: 2048,
      objectivePower: 20,
      properties: { "hamamatsu.Reference": "S-26-04711 HE" },
    });
    const tiled = await pathx("tile", slide, "--out", join(work, "ndpi"));
    expect(tiled.code, tiled.stderr).toBe(0);
    const dzi = await readFile(join(work, "ndpi", "case.dzi"), "utf8");
    expect([/Width="(\d+)"/.exec(dzi)?.[1], /Height="(\d+)"/.exec(dzi)?.[1]]).toEqual(["2048", "1024"]);
    expect((await readdir(join(work, "ndpi", "case_files", "11"))).length).toBe(9 * 5); // ceil(2048/254) × ceil(1024/254)
  });

  it("a Philips TIFF, through OpenSlide", async () => {
    const slide = join(work, "philips.tiff");
    await writePhilipsTiff(slide, { width: 900, height: 700, levels: 2 });
    const info = await pathx("info", slide);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ format: "openslide", vendor: "philips", width: 900, mppX: 0.25 });
    const tiled = await pathx("tile", slide, "--out", join(work, "philips"));
    expect(tiled.code, tiled.stderr).toBe(0);
    expect(tiled.stdout).toMatch(/tiles written/);
  });

  it("a 3DHISTECH MRXS (the .mrxs file and its folder), through OpenSlide: sizes exactly as OpenSlide says", async () => {
    const slide = await writeMrxs(work, "S26-0100", { imagesX: 4, imagesY: 3, levels: 3 });
    const theirs = await openslideProperties(slide.path);
    const info = await pathx("info", slide.path);
    expect(info.code, info.stderr).toBe(0);
    const ours = JSON.parse(info.stdout) as { width: number; height: number; levels: { width: number; height: number }[] };
    expect(ours).toMatchObject({
      format: "openslide",
      vendor: "mirax",
      width: Number(theirs["openslide.level[0].width"]),
      height: Number(theirs["openslide.level[0].height"]),
    });
    expect(ours.levels.map((l) => [l.width, l.height])).toEqual(
      [0, 1, 2].map((i) => [Number(theirs[`openslide.level[${i}].width`]), Number(theirs[`openslide.level[${i}].height`])]),
    );
    const tiled = await pathx("tile", slide.path, "--out", join(work, "mrxs"));
    expect(tiled.code, tiled.stderr).toBe(0);
    const dzi = await readFile(join(work, "mrxs", "S26-0100.dzi"), "utf8");
    expect([/Width="(\d+)"/.exec(dzi)?.[1], /Height="(\d+)"/.exec(dzi)?.[1]]).toEqual(["1024", "768"]);
  });

  it("a Hamamatsu VMS (the .vms file and the JPEGs it names), through OpenSlide: sizes, MPP and objective as OpenSlide says", async () => {
    const folder = join(work, "vms-slide");
    await mkdir(folder);
    const slide = await writeVms(folder, { name: "H26-0300", columns: 3, rows: 2, imageWidth: 512, imageHeight: 256 });
    const theirs = await openslideProperties(slide.path);
    const info = await pathx("info", slide.path);
    expect(info.code, info.stderr).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({
      format: "openslide",
      vendor: "hamamatsu",
      width: Number(theirs["openslide.level[0].width"]),
      height: Number(theirs["openslide.level[0].height"]),
      objectivePower: 20,
    });
    const tiled = await pathx("tile", slide.path, "--out", join(work, "vms"));
    expect(tiled.code, tiled.stderr).toBe(0);
    const dzi = await readFile(join(work, "vms", "H26-0300.dzi"), "utf8");
    expect([/Width="(\d+)"/.exec(dzi)?.[1], /Height="(\d+)"/.exec(dzi)?.[1]]).toEqual(["1536", "512"]);
  });

  it("formats nobody reads, and an MRXS without its folder: one line each", async () => {
    const mrxs = join(work, "CMU-1.mrxs");
    await writeFile(mrxs, "");
    const missing = await pathx("info", mrxs);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^pathx: CMU-1\.mrxs: its data folder CMU-1\/ \(with Slidedat\.ini\) is missing.*\[NOT_FOUND\]\n$/);
    const isyntax = join(work, "scan.isyntax");
    await writeFile(isyntax, `<?xml version="1.0" ?><DataObject ObjectType="DPUfsImport">${" ".repeat(300)}`);
    const refused = await pathx("tile", isyntax, "--out", join(work, "x"));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^pathx: scan\.isyntax: is a Philips iSyntax slide, which pathx cannot read; export it .*\n$/);
  });
});
