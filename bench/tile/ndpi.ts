import { existsSync } from "node:fs";
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { tissuePixel, writeNdpi } from "@pathx/wsi/test-support";
import { childrenCpuSeconds, formatGiB, runMeasured } from "../lib/measure";
import { benchOut, requireVips } from "./make-slide";

/**
 * bench/tile ndpi: `pathx tile` on a generated Hamamatsu NDPI against `vips dzsave`, which
 * reads NDPI through OpenSlide, in one run, same geometry (254/1, JPEG Q75). Target: pathx ≥ 3×.
 */
const { values } = parseArgs({
  options: {
    width: { type: "string", default: "16384" },
    height: { type: "string", default: "12288" },
    keep: { type: "boolean", default: false },
    repeat: { type: "string", default: "1" },
  },
});
const width = Number(values.width);
const height = Number(values.height);
if (width % 512 || height % 32) throw new Error("--width must be a multiple of 512 and --height of 32 (restart-interval geometry)");
const vipsVersion = requireVips(["dzsave"]);
const repoRoot = resolve(fileURLToPath(new URL("../../", import.meta.url)));
const slide = join(benchOut, `tile-ndpi-${width}x${height}.ndpi`);

// A 1024² tissue texture sampled by lookup: the file takes seconds to write, the JPEG work is real.
const texture = Buffer.allocUnsafe(1024 * 1024 * 3);
for (let y = 0; y < 1024; y++) for (let x = 0; x < 1024; x++) texture.set(tissuePixel(x, y), (y * 1024 + x) * 3);
const pixel = (x: number, y: number): [number, number, number] => {
  const at = (((y + (x >> 10) * 337) & 1023) * 1024 + (x & 1023)) * 3;
  return [texture[at]!, texture[at + 1]!, texture[at + 2]!];
};
if (!existsSync(slide)) {
  await mkdir(benchOut, { recursive: true });
  const started = performance.now();
  await writeNdpi(slide, {
    levels: [
      { width, height, restartInterval: 32 }, // 512 × 8 px intervals, 4:2:2, as NanoZoomer writes
      { width: width / 2, height: height / 2, restartInterval: 16 },
      { width: width / 4, height: height / 4, restartInterval: 8 },
      { width: width / 8, height: height / 8, restartInterval: 0 },
    ],
    macro: { width: 1200, height: 400 },
    pixel,
    quality: 85,
  });
  console.log(`wrote ${slide} (${formatGiB((await stat(slide)).size)}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

const megapixels = (width * height) / 1e6;
const out = join(benchOut, "tile-ndpi-runs");
const cases = [
  {
    label: "vips dzsave 254/1 (OpenSlide)",
    command: "vips",
    args: (dir: string) => ["dzsave", slide, join(dir, "slide"), "--layout", "dz", "--tile-size", "254", "--overlap", "1", "--suffix", ".jpg[Q=75]"],
  },
  {
    label: "pathx tile 254/1 (native NDPI)",
    command: "npx",
    args: (dir: string) => [
      "--no-install",
      "pathx",
      "tile",
      slide,
      "--out",
      dir,
      "--name",
      "slide",
      "--tile-size",
      "254",
      "--overlap",
      "1",
      "--quality",
      "75",
      "--format",
      "jpeg",
    ],
  },
];
type Run = { seconds: number; cpuSeconds: number; megapixelsPerSecond: number; peakRss: string; tiles: number };
const rounds = Math.max(1, Number(values.repeat));
const results: Record<string, Run[]> = {};
console.log(
  `${vipsVersion}; slide ${width} × ${height} (${megapixels.toFixed(0)} MP); load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
);
// Rounds alternate the tools, so a change in the machine's load falls on both.
for (let round = 0; round < rounds; round++) {
  for (const c of cases) {
    const dir = join(out, c.command);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const cpuBefore = await childrenCpuSeconds();
    const run = await runMeasured(c.command, c.args(dir), { cwd: repoRoot });
    const cpuSeconds = (await childrenCpuSeconds()) - cpuBefore; // the whole tree: npx and node for pathx
    if (run.code !== 0) throw new Error(`${c.label} failed (${run.code}): ${run.stderr.trim().slice(-500)}`);
    const levels = (await readdir(join(dir, "slide_files"), { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    let tiles = 0;
    for (const level of levels) tiles += (await readdir(join(dir, "slide_files", level))).length;
    results[c.label] ??= [];
    results[c.label]!.push({
      seconds: run.seconds,
      cpuSeconds,
      megapixelsPerSecond: megapixels / run.seconds,
      peakRss: formatGiB(run.peakRssBytes),
      tiles,
    });
    const own = run.stdout.trim().split("\n").at(-1) ?? "";
    console.log(
      `${c.label.padEnd(34)} ${run.seconds.toFixed(1).padStart(7)} s  ${(megapixels / run.seconds).toFixed(1).padStart(6)} MP/s  CPU ${cpuSeconds.toFixed(1)} s  peak ${formatGiB(run.peakRssBytes)}  ${tiles} tiles  load ${loadavg()[0]!.toFixed(1)}${c.command === "npx" && own ? `  (${own.replace(/^.* in /, "tiling ")})` : ""}`,
    );
  }
}
const median = (runs: Run[], key: "seconds" | "cpuSeconds") => runs.map((r) => r[key]).sort((a, b) => a - b)[Math.floor(runs.length / 2)]!;
const [vips, pathx] = Object.values(results);
// On a shared machine the CPU-time ratio is the steadier figure; wall time is what a user waits.
console.log(
  `pathx / vips${rounds > 1 ? ` (medians of ${rounds})` : ""}: ${(median(vips!, "seconds") / median(pathx!, "seconds")).toFixed(2)}× wall time, ${(median(vips!, "cpuSeconds") / median(pathx!, "cpuSeconds")).toFixed(2)}× CPU time (target ≥ 3×); same tile count: ${vips!.every((v) => pathx!.every((p) => p.tiles === v.tiles))}`,
);
if (!values.keep) await rm(out, { recursive: true, force: true });
