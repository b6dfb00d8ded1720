import { existsSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { formatGiB, runMeasured } from "../lib/measure";
import { writeRepeatingSlide } from "@pathx/wsi/test-support";

// bench/memory: peak RSS of `pathx tile` on a 100 000 × 80 000 slide (target < 2 GiB).
const { values } = parseArgs({ options: { width: { type: "string", default: "100000" }, height: { type: "string", default: "80000" } } });
const width = Number(values.width);
const height = Number(values.height);
const out = new URL("../out/", import.meta.url).pathname;
await mkdir(out, { recursive: true });
const slide = join(out, `huge-${width}x${height}.tif`);
if (!existsSync(slide)) {
  const started = performance.now();
  await writeRepeatingSlide(slide, width, height);
  console.log(`generated ${slide} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const target = join(out, "memory-dz");
await rm(target, { recursive: true, force: true });

const bin = new URL("../../apps/node/bin/pathx.js", import.meta.url).pathname;
const run = await runMeasured(process.execPath, [bin, "tile", slide, "--out", target]);
const { code, seconds } = run;
const peak = run.peakRssBytes;
const summary = run.stdout + run.stderr;
console.log(summary.trim());
console.log(
  `pathx tile ${width} × ${height} (${((width * height) / 1e9).toFixed(1)} GP): exit ${code}, ${seconds.toFixed(1)} s, ` +
    `${((width * height) / 1e6 / seconds).toFixed(1)} MP/s, peak RSS ${formatGiB(peak)} (target < 2 GiB)`,
);
await rm(target, { recursive: true, force: true });
process.exitCode = code;
