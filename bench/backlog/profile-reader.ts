/**
 * `node --cpu-prof --import tsx bench/backlog/profile-reader.ts [--slides N]`: a reader thread's
 * work exactly as the agent does it (readBacklogSlide with blocking reads and the codecs on the
 * thread), here on the main thread so one CPU profile holds it all. Prints CPU ms per record.
 */
import { link, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { useBlockingCodecs } from "@pathx/wsi";
import { pyramidImages, writeTestTiff } from "@pathx/wsi/test-support";
import { readBacklogSlide } from "../../apps/node/src/agent/backlog-record";

const { values } = parseArgs({ options: { slides: { type: "string", default: "4000" }, rounds: { type: "string", default: "1" } } });
const total = Number(values.slides);
const work = await mkdtemp(join(tmpdir(), "bench-backlog-reader-"));
const source = join(work, "s.tif");
await writeFile(source, writeTestTiff(pyramidImages(2048, 1536, 256, 4, { pixelsPerCm: 40_000, description: "profile slide" })).bytes);
const paths: string[] = [];
for (let i = 0; i < total; i++) {
  const folder = join(work, "archive", `batch-${Math.floor(i / 1000)}`);
  await mkdir(folder, { recursive: true });
  const path = join(folder, `S${i}.tif`);
  await link(source, path);
  await writeFile(join(folder, `S${i}.json`), JSON.stringify({ case: `C${i}`, block: "A1", stain: "H&E", patient: `P${i}` }));
  paths.push(path);
}
useBlockingCodecs();
const options = { indexKey: Buffer.alloc(32, 7), pseudonymKey: "bench-pseudonym-key-shared-by-labs", blockingReads: true };
let bytes = 0;
for (let round = 0; round < Number(values.rounds); round++) {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (const path of paths) {
    const result = await readBacklogSlide(path, options);
    if ("problem" in result) throw new Error(`${path}: ${result.problem}`);
    bytes += result.json.length;
  }
  const used = process.cpuUsage(cpu);
  console.log(
    `round ${round}: ${total} records, CPU ${((used.user + used.system) / 1000 / total).toFixed(3)} ms/record, wall ${((performance.now() - wall) / total).toFixed(3)} ms/record; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
}
console.log(`JSON ${Math.round(bytes / total / Number(values.rounds))} B/record`);
await rm(work, { recursive: true, force: true });
