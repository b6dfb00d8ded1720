import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeHugeSlide } from "./make-huge-slide";

// bench/memory: peak RSS of `pathx tile` on a 100 000 × 80 000 slide (target < 2 GiB).
const { values } = parseArgs({ options: { width: { type: "string", default: "100000" }, height: { type: "string", default: "80000" } } });
const width = Number(values.width);
const height = Number(values.height);
const out = new URL("../out/", import.meta.url).pathname;
await mkdir(out, { recursive: true });
const slide = join(out, `huge-${width}x${height}.tif`);
if (!existsSync(slide)) {
  const started = performance.now();
  await makeHugeSlide(slide, width, height);
  console.log(`generated ${slide} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const target = join(out, "memory-dz");
await rm(target, { recursive: true, force: true });

/** Sums VmRSS of a process and its children from /proc every 50 ms. */
async function rssOfTree(pid: number): Promise<number> {
  let total = 0;
  const visit = async (p: number) => {
    const status = await readFile(`/proc/${p}/status`, "utf8").catch(() => "");
    total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    const children = await readFile(`/proc/${p}/task/${p}/children`, "utf8").catch(() => "");
    for (const child of children.split(" ").filter(Boolean)) await visit(Number(child));
  };
  await visit(pid);
  return total;
}

const bin = new URL("../../apps/node/bin/pathx.js", import.meta.url).pathname;
const started = performance.now();
const child = spawn(process.execPath, [bin, "tile", slide, "--out", target], { stdio: ["ignore", "pipe", "inherit"] });
let peak = 0;
const timer = setInterval(() => void rssOfTree(child.pid!).then((rss) => (peak = Math.max(peak, rss))), 50);
let summary = "";
child.stdout.on("data", (chunk: Buffer) => (summary += chunk.toString()));
const code = await new Promise<number>((resolve) => child.on("exit", (c) => resolve(c ?? 1)));
clearInterval(timer);
const seconds = (performance.now() - started) / 1000;
console.log(summary.trim());
console.log(
  `pathx tile ${width} × ${height} (${((width * height) / 1e9).toFixed(1)} GP): exit ${code}, ${seconds.toFixed(1)} s, ` +
    `${((width * height) / 1e6 / seconds).toFixed(1)} MP/s, peak RSS ${(peak / 2 ** 30).toFixed(2)} GiB (target < 2 GiB)`,
);
await rm(target, { recursive: true, force: true });
process.exitCode = code;
