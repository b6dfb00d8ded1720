import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { fixturePath, nonWsiDicom } from "@pathx/wsi/test-support";

const bin = new URL("../../bin/pathx.js", import.meta.url).pathname;
const work = await mkdtemp(join(tmpdir(), "pathx-cli-"));
afterAll(() => rm(work, { recursive: true, force: true }));

/** Runs the real command line as a user would, through its bin script. */
async function pathx(...args: string[]) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bin, ...args], { cwd: work });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe("pathx command line", () => {
  it("info prints the metadata as JSON", async () => {
    const { code, stdout } = await pathx("info", fixturePath("CMU-1-Small-Region.svs"));
    expect(code).toBe(0);
    const info = JSON.parse(stdout);
    expect(info).toMatchObject({ format: "aperio-svs", width: 2220, height: 2967, mppX: 0.499, objectivePower: 20 });
    expect(info.associated.map((a: { name: string }) => a.name)).toEqual(["thumbnail", "label", "macro"]);
  });

  it("tile writes DIR/<name>.dzi and DIR/<name>_files/ and ends with one summary line", async () => {
    const out = join(work, "dz");
    const { code, stdout, stderr } = await pathx(
      "tile",
      fixturePath("OS-2-ndpi.ome.tif"),
      "--out",
      out,
      "--tile-size",
      "510",
      "--overlap",
      "2",
      "--quality",
      "80",
    );
    expect(code, stderr).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    expect(stdout).toMatch(/^\d+ tiles written to .*OS-2-ndpi\.ome\.dzi in \d+\.\d+ s, \d+(\.\d+)? MP\/s\n$/);
    expect(await readFile(join(out, "OS-2-ndpi.ome.dzi"), "utf8")).toContain('Overlap="2" TileSize="510"');
    expect((await readdir(join(out, "OS-2-ndpi.ome_files"))).length).toBe(13);
  });

  it("tile --tile-size source --overlap 0 passes source tiles through", async () => {
    const out = join(work, "src");
    const { code, stdout } = await pathx("tile", fixturePath("CMU-1-Small-Region.svs"), "--out", out, "--tile-size", "source", "--overlap", "0");
    expect(code).toBe(0);
    expect(stdout).toMatch(/\((\d+) passed through\)/);
    expect(Number(/\((\d+) passed through\)/.exec(stdout)![1])).toBe(9 * 12);
  });

  it("dicom writes a DICOM WSI series that dciodvfy accepts, and info and tile read it back", async () => {
    const out = join(work, "dicom-out");
    const pseudonym = `hmac-sha256:${"0f".repeat(32)}`;
    const { code, stdout } = await pathx("dicom", fixturePath("CMU-1-Small-Region.svs"), "--out", out, "--patient-pseudonym", pseudonym);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^1 DICOM instances written to .*dicom-out \(130 frames passed through, 0 re-encoded\); series 2\.25\.\d+\n$/);
    const check = spawnSync("dciodvfy", [join(out, "level-0.dcm")], { encoding: "utf8" });
    expect(`${check.stdout}${check.stderr}`).not.toMatch(/^Error/m);
    const info = await pathx("info", out);
    expect(info.code).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({ format: "dicom", width: 2220, height: 2967, mppX: 0.499, associated: [] });
    const tiles = await pathx("tile", out, "--out", join(work, "dicom-dz"), "--tile-size", "source", "--overlap", "0");
    expect(tiles.stdout).toMatch(/\(108 passed through\)/);
    const noMpp = await pathx("dicom", fixturePath("openslide-python_boxes.tiff"), "--out", join(work, "x"));
    expect(noMpp.code).toBe(2);
    expect(noMpp.stderr).toMatch(/^pathx: openslide-python_boxes\.tiff: records no pixel size, which DICOM requires; give it with --mpp/);
    const noOut = await pathx("dicom", fixturePath("CMU-1-Small-Region.svs"));
    expect(noOut.stderr).toMatch(/pathx dicom needs --out DIR/);
  });

  it("bad input: one clear line, no stack trace, non-zero exit", async () => {
    const notSlide = join(work, "notes.txt");
    await writeFile(notSlide, "patient notes, not a slide");
    const result = await pathx("tile", notSlide, "--out", join(work, "x"));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^pathx: notes\.txt: is not a TIFF-based slide .*\[NOT_A_TIFF\]\n$/);
    expect(result.stderr).not.toMatch(/at .*\.ts:\d+/);
    const ct = join(work, "ct.dcm");
    await writeFile(ct, nonWsiDicom());
    const dicom = await pathx("info", ct);
    expect(dicom.code).toBe(1);
    expect(dicom.stderr).toMatch(/^pathx: ct\.dcm: is a DICOM file but not a whole-slide image .*\[UNSUPPORTED_FORMAT\]\n$/);
    const missing = await pathx("info", join(work, "missing.svs"));
    expect(missing.stderr).toMatch(/no such file/);
  });

  it("usage errors exit 2 and say how to get help", async () => {
    const noOut = await pathx("tile", fixturePath("CMU-1-Small-Region.svs"));
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toMatch(/needs --out DIR/);
    const badNumber = await pathx("tile", fixturePath("CMU-1-Small-Region.svs"), "--out", work, "--quality", "high");
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toMatch(/--quality takes a whole number/);
    const badFormat = await pathx("tile", fixturePath("CMU-1-Small-Region.svs"), "--out", work, "--format", "webp");
    expect(badFormat.stderr).toMatch(/--format is jpeg or png/);
    const unknown = await pathx("frobnicate");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command/);
  });
});
