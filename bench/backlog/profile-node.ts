/**
 * `npx tsx bench/backlog/profile-node.ts [--slides N]`: where a backlog record's time goes on the
 * node, stage by stage, one slide at a time (CPU and wall per record): the directory walk, the
 * sidecar with its pseudonym, opening the slide (directories), the thumbnail JPEG (as index-record
 * makes it) and the file reference. Same archive layout as bench/backlog.
 */
import { cpus, loadavg, tmpdir } from "node:os";
import { link, mkdir, mkdtemp, opendir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeThumbnailJpeg, openSlideAt } from "@pathx/wsi";
import { pyramidImages, writeTestTiff } from "@pathx/wsi/test-support";
import { makeFileRef } from "../../apps/node/src/agent/file-ref";
import { readSidecar } from "../../apps/node/src/agent/sidecar";

const { values } = parseArgs({ options: { slides: { type: "string", default: "2000" } } });
const total = Number(values.slides);
const work = await mkdtemp(join(tmpdir(), "bench-backlog-profile-"));
const source = join(work, "s.tif");
await writeFile(source, writeTestTiff(pyramidImages(2048, 1536, 256, 4, { pixelsPerCm: 40_000, description: "profile slide" })).bytes);
for (let i = 0; i < total; i++) {
  const folder = join(work, "archive", `batch-${Math.floor(i / 1000)}`);
  await mkdir(folder, { recursive: true });
  await link(source, join(folder, `S${i}.tif`));
  await writeFile(join(folder, `S${i}.json`), JSON.stringify({ case: `C${i}`, block: "A1", stain: "H&E", patient: `P${i}` }));
}

const stages = new Map<string, { wall: number; cpu: number }>();
async function timed<T>(stage: string, run: () => Promise<T>): Promise<T> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const result = await run();
  const used = process.cpuUsage(cpu);
  const entry = stages.get(stage) ?? { wall: 0, cpu: 0 };
  entry.wall += performance.now() - wall;
  entry.cpu += (used.user + used.system) / 1000;
  stages.set(stage, entry);
  return result;
}

const paths = await timed("walk (opendir, sort)", async () => {
  const out: string[] = [];
  for await (const folder of await opendir(join(work, "archive"))) {
    const names: string[] = [];
    for await (const entry of await opendir(join(work, "archive", folder.name))) names.push(entry.name);
    out.push(
      ...names
        .sort()
        .filter((n) => n.endsWith(".tif"))
        .map((n) => join(work, "archive", folder.name, n)),
    );
  }
  return out;
});
const key = Buffer.alloc(32, 7);
let thumbnailBytes = 0;
for (const path of paths) {
  await timed("sidecar + pseudonym", () => readSidecar(path, "bench-pseudonym-key-shared-by-labs"));
  const slide = await timed("open (directories)", () => openSlideAt(path));
  const jpeg = await timed("thumbnail JPEG", () => makeThumbnailJpeg(slide, 256, 80));
  thumbnailBytes += jpeg.length;
  await timed("file reference", async () => makeFileRef(key, path));
  await timed("close", () => slide.close());
}
console.log(
  `${total} slides, one at a time; ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log("stage                         wall ms/record  CPU ms/record");
let wall = 0;
let cpu = 0;
for (const [stage, t] of stages) {
  const per = stage.startsWith("walk") ? total : paths.length;
  console.log(`${stage.padEnd(30)}${(t.wall / per).toFixed(3).padStart(14)}${(t.cpu / per).toFixed(3).padStart(15)}`);
  wall += t.wall / per;
  cpu += t.cpu / per;
}
console.log(`${"total".padEnd(30)}${wall.toFixed(3).padStart(14)}${cpu.toFixed(3).padStart(15)}   thumbnail ${Math.round(thumbnailBytes / paths.length)} B`);
await rm(work, { recursive: true, force: true });
