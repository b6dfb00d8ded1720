/**
 * `npm run -w bench backlog [-- --slides N --distinct D]`: how fast `pathx node backlog`
 * registers an existing archive index-only into a hub on loopback (target ≥ 500 slide records/s).
 *
 * The archive: D distinct small pyramidal TIFFs, hard-linked N/D times each into nested folders
 * with a sidecar per slide (hard links cost no disk; every file is still opened, read and
 * thumbnailed on its own). The hub is `npm start` on fresh embedded data (PGlite, local folder).
 */
import { link, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { runPathx, signInOverHttp, spawnPathx, startHubProcess } from "@pathx/node/test-support";
import { pyramidImages, writeTestTiff } from "@pathx/wsi/test-support";
import { rssOfTree } from "../lib/measure";

const { values } = parseArgs({ options: { slides: { type: "string", default: "5000" }, distinct: { type: "string", default: "50" }, port: { type: "string", default: "3430" } } });
const total = Number(values.slides);
const distinct = Math.min(total, Number(values.distinct));
const work = await mkdtemp(join(tmpdir(), "bench-backlog-"));
const archive = join(work, "archive");

console.log(`making an archive of ${total} slides (${distinct} distinct files, hard-linked) in ${archive}`);
const sources: string[] = [];
await mkdir(join(work, "sources"), { recursive: true });
for (let i = 0; i < distinct; i++) {
  const path = join(work, "sources", `s${i}.tif`);
  await writeFile(path, writeTestTiff(pyramidImages(2048, 1536, 256, 4, { pixelsPerCm: 40_000, description: `bench slide ${i}` })).bytes);
  sources.push(path);
}
for (let i = 0; i < total; i++) {
  const folder = join(archive, `20${String(10 + (i % 10))}`, `batch-${Math.floor(i / 1000)}`);
  await mkdir(folder, { recursive: true });
  const name = `B${String(i).padStart(7, "0")}-A1`;
  await link(sources[i % distinct]!, join(folder, `${name}.tif`));
  await writeFile(join(folder, `${name}.json`), JSON.stringify({ case: `B${String(Math.floor(i / 3)).padStart(7, "0")}`, block: `A${(i % 3) + 1}`, stain: "H&E", patient: `P${i % 997}` }));
}

const hub = await startHubProcess({ port: Number(values.port), dataDir: join(work, "hub") });
let peakHubRss = 0;
const sampler = setInterval(() => void rssOfTree(hub.pid()!).then((rss) => (peakHubRss = Math.max(peakHubRss, rss))), 100);
try {
  const admin = await signInOverHttp(hub.url, "admin@east.example");
  const { token } = await admin.mutate<{ token: string }>("nodes.createEnrollmentToken");
  const env = { PATHX_NODE_CONFIG: join(work, "node", "node.json"), PATHX_PSEUDONYM_KEY: "bench-pseudonym-key-shared-by-labs" };
  const enrolled = await runPathx(["node", "enroll", "--hub", hub.url, "--token", token, "--name", "bench-node"], env);
  if (enrolled.code !== 0) throw new Error(enrolled.stderr);

  const started = performance.now();
  const run = spawnPathx(["node", "backlog", archive], env);
  const code = await run.exited;
  const seconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`backlog failed (${code}):\n${run.output()}`);
  const summary = run.output().trim().split("\n").pop()!;
  const listed = await (await signInOverHttp(hub.url, "pathologist@east.example")).query<unknown[]>("slides.list", {});
  // A second run is the resume path: nothing left to read, everything already done.
  const again = await runPathx(["node", "backlog", archive], env);
  const rerun = await runPathx(["node", "backlog", archive, "--restart"], env);
  clearInterval(sampler);
  const result = {
    slides: total,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(total / seconds),
    hubPeakRssMiB: Math.round(peakHubRss / 2 ** 20),
    listedOnDashboard: listed.length,
    summary,
    resumedRun: again.stdout.trim(),
    restartedRun: rerun.stdout.trim(),
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(`\n${total} slide records in ${seconds.toFixed(1)} s including process start: ${result.recordsPerSecond} records/s (target ≥ 500); hub peak RSS ${result.hubPeakRssMiB} MiB`);
} finally {
  clearInterval(sampler);
  await hub.stop();
  await rm(work, { recursive: true, force: true });
}
