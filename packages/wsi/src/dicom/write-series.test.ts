import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openFileSource } from "../byte-source";
import { openSlide } from "../slide";
import { fixturePath } from "../test-support/fixtures";
import { writeDicomSeries } from "./write-series";

const work = await mkdtemp(join(tmpdir(), "pathx-dicom-out-"));
afterAll(() => rm(work, { recursive: true, force: true }));

/** dciodvfy (Debian dicom3tools) checks an instance against PS3.3; every "Error" line fails. */
function verify(path: string): { errors: string[]; warnings: string[] } {
  const run = spawnSync("dciodvfy", [path], { encoding: "utf8" });
  if (run.error) throw new Error(`dciodvfy is not installed (Debian package dicom3tools): ${run.error.message}`);
  const lines = `${run.stdout}${run.stderr}`.split("\n");
  return { errors: lines.filter((l) => l.startsWith("Error")), warnings: lines.filter((l) => l.startsWith("Warning")) };
}

/** pydicom (Debian python3-pydicom) as an independent reader: a few attributes and frame sizes. */
function readWithPydicom(path: string): {
  frames: number;
  rows: number;
  photometric: string;
  patientId: string;
  study: string;
  series: string;
  frameSizes: number[];
} {
  const script = `
import json, sys, pydicom
from pydicom.encaps import generate_pixel_data_frame
d = pydicom.dcmread(sys.argv[1])
n = int(d.NumberOfFrames)
print(json.dumps({"frames": n, "rows": d.Rows, "photometric": d.PhotometricInterpretation, "patientId": d.PatientID,
  "study": d.StudyInstanceUID, "series": d.SeriesInstanceUID, "frameSizes": [len(f) for f in generate_pixel_data_frame(d.PixelData, n)]}))`;
  return JSON.parse(execFileSync("/usr/bin/python3", ["-c", script, path], { encoding: "utf8" }));
}

const pseudonym = `hmac-sha256:${"ab12".repeat(16)}`;

describe("writeDicomSeries", () => {
  it("writes an Aperio slide as a valid WSI series, passing its RGB JPEG tiles through unchanged", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
    const out = join(work, "svs");
    const result = await writeDicomSeries(slide, out, { patientPseudonym: pseudonym });
    expect(result.files.map((f) => f.slice(out.length + 1))).toEqual(["level-0.dcm"]); // no label without the flag
    expect(result).toMatchObject({ framesPassedThrough: 130, framesEncoded: 0 });
    const check = verify(result.files[0]!);
    expect(check.errors).toEqual([]);
    expect(check.warnings).toEqual([]);
    expect(spawnSync("dcmdump", ["-q", result.files[0]!]).status).toBe(0);
    const read = readWithPydicom(result.files[0]!);
    expect(read).toMatchObject({ frames: 130, rows: 240, photometric: "RGB", patientId: "ab12".repeat(16), study: result.studyUid, series: result.seriesUid });
    // Frame 4 + 6 * 10 is tile (4, 6): the bytes the engine serves, Adobe marker included (colours stay right).
    const tile = await slide.readRawTile(0, 4, 6);
    expect(read.frameSizes[64]).toBe(tile.bytes.length + (tile.bytes.length % 2));
    const dump = execFileSync("dcmdump", ["+P", "0028,0030", "+P", "0048,0006", "+P", "0008,0008", result.files[0]!], { encoding: "utf8" });
    expect(dump).toContain("[0.000499\\0.000499]");
    expect(dump).toContain("UL 2220");
    expect(dump).toContain("[ORIGINAL\\PRIMARY\\VOLUME\\NONE]");
    await slide.close();
  });

  it("re-encodes non-JPEG levels as YBR_FULL_422 JPEG, one instance per level sharing study, series and frame of reference", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("openslide-python_boxes.tiff")));
    await expect(writeDicomSeries(slide, join(work, "no-mpp"))).rejects.toThrow(/records no pixel size.*--mpp/);
    const result = await writeDicomSeries(slide, join(work, "boxes"), { mpp: 0.25 });
    expect(result.files).toHaveLength(4);
    expect(result.framesPassedThrough).toBe(0);
    const uids = new Set<string>();
    for (const file of result.files) {
      expect(verify(file).errors).toEqual([]);
      const read = readWithPydicom(file);
      expect(read.photometric).toBe("YBR_FULL_422");
      const dump = execFileSync("dcmdump", ["+P", "0020,000d", "+P", "0020,000e", "+P", "0020,0052", file], { encoding: "utf8" });
      uids.add(dump.replace(/#.*$/gm, ""));
    }
    expect(uids.size).toBe(1);
    const lowest = execFileSync("dcmdump", ["+P", "0008,0008", "+P", "0028,0030", result.files[3]!], { encoding: "utf8" });
    expect(lowest).toContain("DERIVED\\PRIMARY\\VOLUME\\RESAMPLED");
    await slide.close();
  });

  it("writes label and overview only when asked, flagged as showing the label", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
    const result = await writeDicomSeries(slide, join(work, "with-label"), { includeLabel: true });
    expect(result.files.map((f) => f.split("/").pop())).toEqual(["level-0.dcm", "label.dcm", "overview.dcm"]);
    for (const file of result.files.slice(1)) {
      expect(verify(file).errors).toEqual([]);
      const dump = execFileSync("dcmdump", ["+P", "0048,0010", "+P", "0008,0008", file], { encoding: "utf8" });
      expect(dump).toContain("[YES]");
    }
    expect((await readFile(result.files[1]!)).subarray(128, 132).toString()).toBe("DICM");
    await slide.close();
  });

  it("refuses a pseudonym that does not fit PatientID", async () => {
    const slide = await openSlide(await openFileSource(fixturePath("openslide-python_small.svs")));
    await expect(writeDicomSeries(slide, join(work, "bad"), { patientPseudonym: "x".repeat(65), mpp: 1 })).rejects.toThrow(/pseudonym/);
    await slide.close();
  });
});
