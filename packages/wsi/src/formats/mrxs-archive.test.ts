import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSlideAt } from "../slide";
import { type WrittenMrxs, writeMrxs } from "../test-support/mrxs-writer";
import { openslideProperties, readSlideRegion } from "../test-support/openslide-check";
import { psnr } from "../test-support/pixels";
import { checkMrxsArchiveHeader, unpackMrxsArchive, writeMrxsArchive } from "./mrxs-archive";

const run = promisify(execFile);
const work = await mkdtemp(join(tmpdir(), "wsi-mrxs-archive-"));
let mrxs: WrittenMrxs;
const sha = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
beforeAll(async () => {
  mrxs = await writeMrxs(work, "S26-0042", { imagesX: 3, imagesY: 2, levels: 2 });
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe("an MRXS slide packed as one archive, for upload", () => {
  it("packs the .mrxs and its folder into a plain tar, the same bytes each time, and unpacks to a slide OpenSlide reads as before", async () => {
    const archive = join(work, "S26-0042.mrxs.tar");
    expect(await writeMrxsArchive(mrxs.path, archive)).toEqual({ removed: [] });
    await writeMrxsArchive(mrxs.path, join(work, "again.mrxs.tar"));
    expect(await sha(archive)).toBe(await sha(join(work, "again.mrxs.tar")));
    const { stdout } = await run("tar", ["-tf", archive]);
    expect(stdout.trim().split("\n")).toEqual(["S26-0042.mrxs", "S26-0042/Data0000.dat", "S26-0042/Index.dat", "S26-0042/Slidedat.ini"]);
    expect(checkMrxsArchiveHeader(await readFile(archive), "S26-0042.mrxs.tar")).toBeUndefined();
    const unpacked = await unpackMrxsArchive(archive, await mkdtemp(join(work, "unpacked-")));
    const [before, after] = [await openSlideAt(mrxs.path), await openSlideAt(unpacked)];
    expect(after.metadata.levels).toEqual(before.metadata.levels);
    expect(after.metadata.associated).toEqual(before.metadata.associated);
    expect(psnr(await readSlideRegion(after, 0, 0, 0, 768, 512), await readSlideRegion(before, 0, 0, 0, 768, 512))).toBe(Infinity);
    await Promise.all([before.close(), after.close()]);
  });

  it("leaves label and macro out for a lab that keeps them: their bytes are zeros, OpenSlide still opens the rest", async () => {
    const archive = join(work, "clean.mrxs.tar");
    expect(await writeMrxsArchive(mrxs.path, archive, { without: ["label", "macro"] })).toEqual({ removed: ["label", "macro"] });
    const original = await openSlideAt(mrxs.path);
    const label = await original.readAssociated("label");
    await original.close();
    const unpacked = await unpackMrxsArchive(archive, await mkdtemp(join(work, "clean-")));
    expect((await openslideProperties(unpacked))["openslide.vendor"]).toBe("mirax");
    const slide = await openSlideAt(unpacked);
    expect(slide.metadata.associated.map((a) => a.name)).toEqual(["thumbnail"]);
    await slide.close();
    // No JPEG of the label is left in the data file: every JPEG start it holds belongs to a tile or the preview.
    const data = await readFile(join(unpacked.replace(/\.mrxs$/, ""), "Data0000.dat"));
    const starts = [...data.toString("latin1").matchAll(/\xff\xd8\xff/g)].length;
    const tiles = 3 * 2 + 2 * 1; // level 0: 3 × 2 images; level 1: 2 × 1
    expect(starts).toBe(tiles + 1);
    expect(label.width).toBe(200);
  });

  const bad: [string, (path: string) => Promise<void>, RegExp][] = [
    ["not a tar at all", (path) => writeFile(path, Buffer.alloc(4096, 7)), /an entry without a tar header/],
    ["cut short", (path) => truncate(path, 3000), /cut short|ends before/],
    [
      "an entry outside its folder",
      async (path) => {
        const bytes = await readFile(path);
        const at = bytes.indexOf("S26-0042/Index.dat");
        bytes.write("../../../etc/pwned", at, "latin1");
        await writeFile(path, bytes);
      },
      /unexpected entry/,
    ],
  ];
  it.each(bad)("a damaged archive, %s: one clear line, nothing written outside the work folder", async (_, damage, message) => {
    const path = join(work, "bad.mrxs.tar");
    await writeMrxsArchive(mrxs.path, path);
    await damage(path);
    const into = await mkdtemp(join(work, "bad-"));
    const attempt = unpackMrxsArchive(path, into);
    await expect(attempt).rejects.toMatchObject({ name: "WsiError", code: "CORRUPT" });
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toThrow(/^bad\.mrxs\.tar: not an MRXS slide archive \([^\n]+\); publish MRXS slides with the lab's node/);
  });

  it("a .mrxs without its folder cannot be packed: the same one line as opening it", async () => {
    const lone = join(work, "lone.mrxs");
    await writeFile(lone, "MRXS");
    await expect(writeMrxsArchive(lone, join(work, "lone.mrxs.tar"))).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: expect.stringMatching(/lone\/ \(with Slidedat.ini\) is missing/),
    });
  });
});
