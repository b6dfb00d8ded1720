import { execFileSync } from "node:child_process";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatGiB, runMeasured } from "../lib/measure";
import { makeSlide } from "./make-slide";

// bench/tile: pathx against `vips dzsave` on one generated large slide, in one run, in both
// geometries: Deep Zoom 254/1 (re-encode everything) and the source's own 256/0 (pathx passes
// source tiles through and computes only missing levels).
const { values } = parseArgs({
  options: {
    width: { type: "string", default: "32768" },
    height: { type: "string", default: "30720" },
    quality: { type: "string", default: "75" },
    repeat: { type: "string", default: "1" },
  },
});
const width = Number(values.width);
const height = Number(values.height);
const out = new URL("../out/", import.meta.url).pathname;
const slide = join(out, `tissue-${width}x${height}.tif`);

try {
  execFileSync("vips", ["--version"], { stdio: "ignore" });
} catch {
  console.error("bench/tile needs libvips' command line: apt-get install libvips-tools");
  process.exit(1);
}

const generateStarted = performance.now();
await makeSlide(slide, width, height);
const generated = (performance.now() - generateStarted) / 1000;
if (generated > 1) console.log(`generated ${slide} in ${generated.toFixed(1)} s`);

const pathx = new URL("../../apps/node/bin/pathx.js", import.meta.url).pathname;
const q = values.quality;
const runs = [
  { tool: "vips dzsave", geometry: "254/1", dir: "vips-254", cmd: "vips", args: (d: string) => ["dzsave", slide, join(d, "slide"), "--tile-size", "254", "--overlap", "1", "--suffix", `.jpeg[Q=${q}]`] },
  { tool: "pathx tile", geometry: "254/1", dir: "pathx-254", cmd: process.execPath, args: (d: string) => [pathx, "tile", slide, "--out", d, "--name", "slide", "--quality", q!] },
  { tool: "vips dzsave", geometry: "256/0", dir: "vips-256", cmd: "vips", args: (d: string) => ["dzsave", slide, join(d, "slide"), "--tile-size", "256", "--overlap", "0", "--suffix", `.jpeg[Q=${q}]`] },
  { tool: "pathx tile", geometry: "256/0 (source)", dir: "pathx-256", cmd: process.execPath, args: (d: string) => [pathx, "tile", slide, "--out", d, "--name", "slide", "--tile-size", "source", "--overlap", "0", "--quality", q!] },
];

async function countTiles(dir: string): Promise<number> {
  const levels = (await readdir(join(dir, "slide_files"))).filter((name) => /^\d+$/.test(name)); // vips adds vips-properties.xml
  let n = 0;
  for (const level of levels) n += (await readdir(join(dir, "slide_files", level))).length;
  return n;
}

function dziFields(xml: string) {
  const pick = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(xml)?.[1];
  return { Format: pick("Format"), Overlap: pick("Overlap"), TileSize: pick("TileSize"), Width: pick("Width"), Height: pick("Height") };
}

const megapixels = (width * height) / 1e6;
const repeat = Math.max(1, Number(values.repeat));
type Result = { seconds: number; mpPerSecond: number; peakRss: number; tiles: number; dzi: ReturnType<typeof dziFields> };
const samples: Record<string, Result[]> = {};
const written: string[] = [];
// Every run writes a fresh folder and all are deleted at the end: deleting 20 000 files just
// before the next tool runs would slow its file creation (the disk is shared by both tools).
for (let round = 0; round < repeat; round++) {
  for (const run of runs) {
    const dir = join(out, `${run.dir}-${round}`);
    await rm(dir, { recursive: true, force: true });
    execFileSync("sync");
    const measured = await runMeasured(run.cmd, run.args(dir));
    written.push(dir);
    const key = `${run.tool} ${run.geometry}`;
    if (measured.code !== 0) {
      console.error(`${key}: failed (exit ${measured.code})\n${measured.stderr}`);
      continue;
    }
    const result: Result = {
      seconds: measured.seconds,
      mpPerSecond: megapixels / measured.seconds,
      peakRss: measured.peakRssBytes,
      tiles: await countTiles(dir),
      dzi: dziFields(await readFile(join(dir, "slide.dzi"), "utf8")),
    };
    (samples[key] ??= []).push(result);
    console.log(`${key.padEnd(32)} ${result.seconds.toFixed(1).padStart(6)} s  ${result.mpPerSecond.toFixed(1).padStart(6)} MP/s  peak RSS ${formatGiB(result.peakRss)}  ${result.tiles} tiles`);
  }
}
for (const dir of written) await rm(dir, { recursive: true, force: true });
// The median run of each tool stands for it.
const results: Record<string, Result> = Object.fromEntries(
  Object.entries(samples).map(([key, list]) => [key, [...list].sort((a, b) => a.seconds - b.seconds)[Math.floor(list.length / 2)]!]),
);

console.log(`\nslide: ${width} × ${height} (${megapixels.toFixed(0)} MP), JPEG Q${q}, ${(await import("node:os")).cpus().length} cores`);
for (const [geometry, pathxKey, vipsKey] of [["254/1", "pathx tile 254/1", "vips dzsave 254/1"], ["source 256/0", "pathx tile 256/0 (source)", "vips dzsave 256/0"]] as const) {
  const p = results[pathxKey];
  const v = results[vipsKey];
  if (!p || !v) continue;
  const mismatches = Object.entries(p.dzi).filter(([k, value]) => v.dzi[k as keyof typeof v.dzi] !== value);
  console.log(
    `${geometry}: pathx ${(v.seconds / p.seconds).toFixed(2)}× vips dzsave speed` +
      ` (${p.mpPerSecond.toFixed(1)} vs ${v.mpPerSecond.toFixed(1)} MP/s); tiles ${p.tiles} vs ${v.tiles}` +
      (mismatches.length ? `; .dzi differs: ${mismatches.map(([k]) => k).join(", ")}` : "; .dzi geometry identical"),
  );
}
await writeFile(join(out, "tile-results.json"), `${JSON.stringify({ width, height, quality: Number(q), results }, null, 2)}\n`);
