import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { cpus, loadavg } from "node:os";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchOut, ensureSlide, requireVips, slideSize } from "./make-slide";
import { runMeasured } from "../lib/measure";

/**
 * bench/tile, DICOM: the generated bench slide written as a DICOM WSI series by `pathx dicom`
 * (its JPEG tiles passed through, so the pixels are the TIFF's), then `pathx tile` on the series
 * folder against `vips dzsave` on the TIFF (Debian's libvips reads no DICOM). A second check:
 * pathx tiling the series and the TIFF must give byte-identical source/0 pyramids.
 */
const { values } = parseArgs({ options: { width: { type: "string" }, height: { type: "string" }, keep: { type: "boolean", default: false } } });
const repoRoot = resolve(fileURLToPath(new URL("../../", import.meta.url)));
const vipsVersion = requireVips(["dzsave"]);
const { width, height } = slideSize(values);
const slide = await ensureSlide(width, height);
const megapixels = (width * height) / 1e6;
const root = join(benchOut, "tile-dicom-runs");
const series = join(root, "series");
await rm(root, { recursive: true, force: true });
await mkdir(root, { recursive: true });

const pathx = (...args: string[]) => runMeasured(join(repoRoot, "node_modules", ".bin", "pathx"), args, { cwd: repoRoot });
const vips = async (dir: string, tile: number, overlap: number) => {
  await mkdir(dir, { recursive: true });
  return runMeasured(
    "vips",
    ["dzsave", slide.path, join(dir, "slide"), "--layout", "dz", "--tile-size", String(tile), "--overlap", String(overlap), "--suffix", ".jpg[Q=75]"],
    { cwd: repoRoot },
  );
};

async function tilesPerLevel(dir: string): Promise<number[]> {
  const files = join(dir, "slide_files");
  const levels = (await readdir(files))
    .filter((l) => /^\d+$/.test(l))
    .map(Number)
    .sort((a, b) => a - b);
  return Promise.all(levels.map(async (l) => (await readdir(join(files, String(l)))).length));
}

console.log(
  `slide ${slide.path}: ${width} × ${height} = ${megapixels.toFixed(0)} MP, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, ${vipsVersion}`,
);
const exported = await pathx("dicom", slide.path, "--out", series, "--mpp", "0.25");
if (exported.code !== 0) throw new Error(`pathx dicom failed: ${exported.stderr}`);
const seriesBytes = (await Promise.all((await readdir(series)).map(async (f) => (await readFile(join(series, f))).length))).reduce((a, b) => a + b, 0);
console.log(`pathx dicom: ${exported.seconds.toFixed(1)} s, ${(megapixels / exported.seconds).toFixed(0)} MP/s — ${exported.stdout.trim()}`);

// Both inputs start in the page cache (the series was just written: flush it, then read it once).
spawnSync("sync");
for (const file of [slide.path, ...(await readdir(series)).map((f) => join(series, f))]) {
  await new Promise<void>((done, fail) =>
    createReadStream(file)
      .on("data", () => {})
      .on("end", done)
      .on("error", fail),
  );
}

const cases = [
  { id: "a", label: "vips dzsave TIFF 254/1", run: () => vips(join(root, "a"), 254, 1) },
  {
    id: "b",
    label: "pathx tile DICOM 254/1",
    run: () => pathx("tile", series, "--out", join(root, "b"), "--name", "slide", "--tile-size", "254", "--overlap", "1", "--quality", "75"),
  },
  {
    id: "c",
    label: "pathx tile DICOM source/0",
    run: () => pathx("tile", series, "--out", join(root, "c"), "--name", "slide", "--tile-size", "source", "--overlap", "0", "--quality", "75"),
  },
  { id: "d", label: "vips dzsave TIFF 256/0", run: () => vips(join(root, "d"), 256, 0) },
  {
    id: "f",
    label: "pathx tile TIFF 254/1",
    run: () => pathx("tile", slide.path, "--out", join(root, "f"), "--name", "slide", "--tile-size", "254", "--overlap", "1", "--quality", "75"),
  },
  {
    id: "e",
    label: "pathx tile TIFF source/0",
    run: () => pathx("tile", slide.path, "--out", join(root, "e"), "--name", "slide", "--tile-size", "source", "--overlap", "0", "--quality", "75"),
  },
];
const results: Record<string, { seconds: number; mpPerSecond: number; peakRssMiB: number; tiles: number; says?: string }> = {};
for (const c of cases) {
  const run = await c.run();
  if (run.code !== 0) throw new Error(`${c.label} failed: ${run.stderr.slice(-500)}`);
  const tiles = (await tilesPerLevel(join(root, c.id))).reduce((a, b) => a + b, 0);
  results[c.id] = {
    seconds: run.seconds,
    mpPerSecond: megapixels / run.seconds,
    peakRssMiB: run.peakRssBytes / 2 ** 20,
    tiles,
    says: run.stdout.trim().split("\n").at(-1),
  };
  console.log(
    `(${c.id}) ${c.label.padEnd(26)} ${run.seconds.toFixed(1).padStart(6)} s ${(megapixels / run.seconds).toFixed(1).padStart(6)} MP/s ${String(tiles).padStart(6)} tiles ${(run.peakRssBytes / 2 ** 20).toFixed(0).padStart(5)} MiB`,
  );
}

const checks: string[] = [];
for (const [p, v] of [
  ["b", "a"],
  ["c", "d"],
] as const) {
  const [pl, vl] = [await tilesPerLevel(join(root, p)), await tilesPerLevel(join(root, v))];
  checks.push(`(${p}) vs (${v}) tiles per level ${JSON.stringify(pl) === JSON.stringify(vl) ? "match" : `DIFFER: ${pl} vs ${vl}`}`);
}
// The series carries the TIFF's own JPEG tiles: pathx's source/0 pyramids from both must be identical.
const digest = async (dir: string) => {
  const hash = createHash("sha256");
  for (const [level, count] of (await tilesPerLevel(dir)).entries()) {
    const names = (await readdir(join(dir, "slide_files", String(level)))).sort();
    if (names.length !== count) throw new Error("tile count changed while hashing");
    for (const name of names) hash.update(name).update(await readFile(join(dir, "slide_files", String(level), name)));
  }
  return hash.digest("hex");
};
const identical = (await digest(join(root, "c"))) === (await digest(join(root, "e")));
checks.push(`pathx source/0 from the DICOM series and from the TIFF: ${identical ? "byte-identical" : "DIFFERENT"}`);
for (const line of checks) console.log(`check: ${line}`);
const ratio = (p: string, v: string) => results[p]!.mpPerSecond / results[v]!.mpPerSecond;
console.log(`pathx (DICOM) / vips (TIFF) speed: 254/1 ${ratio("b", "a").toFixed(2)}×, source ${ratio("c", "d").toFixed(2)}×`);
console.log(`pathx DICOM / pathx TIFF speed (same pixels): 254/1 ${ratio("b", "f").toFixed(2)}×, source ${ratio("c", "e").toFixed(2)}×`);

const out = join(benchOut, "tile-dicom-results.json");
await writeFile(
  out,
  `${JSON.stringify({ when: new Date().toISOString(), machine: { cpus: cpus().length, load: loadavg()[0], vips: vipsVersion }, slide: { width, height, megapixels }, export: { seconds: exported.seconds, seriesBytes, says: exported.stdout.trim() }, results, checks, ratios: { "254/1": ratio("b", "a"), source: ratio("c", "d"), dicomOverTiff254: ratio("b", "f"), dicomOverTiffSource: ratio("c", "e") } }, null, 2)}\n`,
);
console.log(`results: ${out}`);
if (!values.keep) await rm(root, { recursive: true, force: true });
