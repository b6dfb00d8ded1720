import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSlideAt } from "../slide";
import { type WrittenMrxs, writeMrxs } from "../test-support/mrxs-writer";
import { type WrittenVms, writeVms } from "../test-support/vms-writer";
import { openslideProperties, readSlideRegion } from "../test-support/openslide-check";
import { psnr } from "../test-support/pixels";
import { checkSlideArchiveHeader, unpackSlideArchive, writeMrxsArchive, writeSlideArchive, writeVmsArchive } from "./slide-archive";

const run = promisify(execFile);
const work = await mkdtemp(join(tmpdir(), "wsi-mrxs-archive-"));
let mrxs: WrittenMrxs;
let vms: WrittenVms;
const sha = async (path: string) =>
  createHash("sha256")
    .update(await readFile(path))
    .digest("hex");
beforeAll(async () => {
  mrxs = await writeMrxs(work, "S26-0042", { imagesX: 3, imagesY: 2, levels: 2 });
  await mkdir(join(work, "vms"));
  vms = await writeVms(join(work, "vms"), { name: "H26-0007", columns: 2, rows: 2, imageWidth: 512, imageHeight: 256 });
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
    expect(checkSlideArchiveHeader(await readFile(archive), "S26-0042.mrxs.tar")).toBeUndefined();
    const unpacked = await unpackSlideArchive(archive, await mkdtemp(join(work, "unpacked-")));
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
    const unpacked = await unpackSlideArchive(archive, await mkdtemp(join(work, "clean-")));
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
    const attempt = unpackSlideArchive(path, into);
    await expect(attempt).rejects.toMatchObject({ name: "WsiError", code: "CORRUPT" });
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toThrow(/^bad\.mrxs\.tar: not an MRXS or VMS slide archive \([^\n]+\); publish such slides with the lab's node/);
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

describe("a Hamamatsu VMS slide packed as one archive, for upload", () => {
  it("the test writer's slide is one OpenSlide reads as Hamamatsu, with its MPP, objective and macro", async () => {
    const properties = await openslideProperties(vms.path);
    expect(properties).toMatchObject({
      "openslide.vendor": "hamamatsu",
      "openslide.level[0].width": "1024",
      "openslide.level[0].height": "512",
      "openslide.objective-power": "20",
      "hamamatsu.MacroImage": "H26-0007_macro.jpg",
    });
    expect(Number(properties["openslide.mpp-x"])).toBeCloseTo(0.46, 6);
    const slide = await openSlideAt(vms.path);
    expect(slide.metadata.associated.map((a) => [a.name, a.width, a.height])).toEqual([["macro", 320, 120]]);
    await slide.close();
  });

  it("packs the .vms and the files it names, the same bytes each time, and unpacks to the same slide", async () => {
    const archive = join(work, "H26-0007.vms.tar");
    expect(await writeSlideArchive(vms.path, archive)).toEqual({ removed: [] });
    await writeVmsArchive(vms.path, join(work, "again.vms.tar"));
    expect(await sha(archive)).toBe(await sha(join(work, "again.vms.tar")));
    const { stdout } = await run("tar", ["-tf", archive]);
    expect(stdout.trim().split("\n")).toEqual([
      "H26-0007.vms",
      "H26-0007(0,1).jpg",
      "H26-0007(1,0).jpg",
      "H26-0007(1,1).jpg",
      "H26-0007.jpg",
      "H26-0007_macro.jpg",
      "H26-0007_map2.jpg",
    ]);
    expect(checkSlideArchiveHeader(await readFile(archive), "H26-0007.vms.tar")).toBeUndefined();
    // A name that promises MRXS with a VMS inside is refused before upload and when unpacked.
    expect(checkSlideArchiveHeader(await readFile(archive), "H26-0007.mrxs.tar")?.code).toBe("UNSUPPORTED_FORMAT");
    const into = await mkdtemp(join(work, "vms-unpacked-"));
    const unpacked = await unpackSlideArchive(archive, into);
    expect(unpacked).toBe(join(into, "H26-0007.vms"));
    for (const file of vms.files) expect(await sha(join(into, file))).toBe(await sha(join(work, "vms", file)));
    const [before, after] = [await openSlideAt(vms.path), await openSlideAt(unpacked)];
    expect(after.metadata.levels).toEqual(before.metadata.levels);
    expect(psnr(await readSlideRegion(after, 0, 0, 0, 1024, 512), await readSlideRegion(before, 0, 0, 0, 1024, 512))).toBe(Infinity);
    await Promise.all([before.close(), after.close()]);
    await run("cp", [archive, join(work, "renamed.mrxs.tar")]);
    await expect(unpackSlideArchive(join(work, "renamed.mrxs.tar"), await mkdtemp(join(work, "renamed-")))).rejects.toThrow(
      /renamed\.mrxs\.tar: not an MRXS or VMS slide archive \(its first entry H26-0007\.vms is not the \.mrxs file its name promises\)/,
    );
  });

  it("leaves the macro out for a lab that keeps it: neither its file nor its key travels, OpenSlide opens the rest", async () => {
    const archive = join(work, "clean.vms.tar");
    expect(await writeVmsArchive(vms.path, archive, { without: ["label", "macro"] })).toEqual({ removed: ["macro"] });
    const into = await mkdtemp(join(work, "vms-clean-"));
    const unpacked = await unpackSlideArchive(archive, into);
    expect((await readdir(into)).sort()).toEqual([
      "H26-0007(0,1).jpg",
      "H26-0007(1,0).jpg",
      "H26-0007(1,1).jpg",
      "H26-0007.jpg",
      "H26-0007.vms",
      "H26-0007_map2.jpg",
    ]);
    expect(await readFile(unpacked, "utf8")).not.toMatch(/MacroImage/);
    const properties = await openslideProperties(unpacked);
    expect(properties["openslide.vendor"]).toBe("hamamatsu");
    expect(properties["hamamatsu.MacroImage"]).toBeUndefined();
    const slide = await openSlideAt(unpacked);
    expect(slide.metadata.associated).toEqual([]);
    await slide.close();
  });

  it("a file it names that is missing, or one outside its folder, is refused with one line", async () => {
    const folder = await mkdtemp(join(work, "vms-broken-"));
    const broken = await writeVms(folder, { name: "B1", columns: 1, rows: 1, imageWidth: 256, imageHeight: 64, macro: false });
    await rm(join(folder, "B1_map2.jpg"));
    await expect(writeVmsArchive(broken.path, join(work, "b1.vms.tar"))).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "B1.vms: B1_map2.jpg (its MapFile) is missing beside it; a VMS slide is the .vms file plus the files it names, so copy them all.",
    });
    await writeFile(broken.path, `${await readFile(broken.path, "utf8")}MacroImage=../../etc/passwd\r\n`);
    await expect(writeVmsArchive(broken.path, join(work, "b1.vms.tar"))).rejects.toThrow(
      /MacroImage names \.\.\/\.\.\/etc\/passwd, not a file beside the \.vms/,
    );
  });
});
