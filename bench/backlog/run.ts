/**
 * `npm run -w bench backlog [-- --slides N --distinct D --nodes K]`: how fast `pathx node backlog`
 * registers existing archives index-only into a hub on loopback (target ≥ 2 000 slide records/s
 * including process start, hub peak RSS < 1.5 GiB, every record at the hub exactly once).
 *
 * The archives: D distinct small pyramidal TIFFs, hard-linked N/D times each into nested folders
 * with a sidecar per slide (hard links cost no disk; every file is still opened, read and
 * thumbnailed on its own). With K nodes the N slides are split into K archives, one per node,
 * the nodes spread over the seeded labs, all started at once. The hub is `npm start` on fresh
 * embedded data (PGlite, local folder). Ports: --port, else 3430 + PATHX_TEST_PORT_OFFSET.
 */
import { link, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { sql } from "drizzle-orm";
import { createDb, readDbEnv } from "@pathx/db";
import { runPathx, signInOverHttp, spawnPathx, startHubProcess } from "@pathx/node/test-support";
import { pyramidImages, writeTestTiff } from "@pathx/wsi/test-support";
import { childrenCpuSeconds, processTree } from "../lib/measure";

const { values } = parseArgs({
  options: {
    slides: { type: "string", default: "10000" },
    distinct: { type: "string", default: "50" },
    nodes: { type: "string", default: "1" },
    port: { type: "string", default: String(3430 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0)) },
    keep: { type: "boolean", default: false },
    // Extra NODE_OPTIONS for the `pathx node backlog` processes, e.g. "--require …/backlog/cpu-profile-preload.cjs" (not --cpu-prof: NODE_OPTIONS refuses it).
    "node-options": { type: "string", default: "" },
  },
});
const total = Number(values.slides);
const nodeCount = Number(values.nodes);
const distinct = Math.min(total, Number(values.distinct));
const work = await mkdtemp(join(tmpdir(), "bench-backlog-"));
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

console.log(`making ${nodeCount} archive(s) of ${total} slides in all (${distinct} distinct files, hard-linked) in ${work}`);
const sources: string[] = [];
await mkdir(join(work, "sources"), { recursive: true });
for (let i = 0; i < distinct; i++) {
  const path = join(work, "sources", `s${i}.tif`);
  await writeFile(path, writeTestTiff(pyramidImages(2048, 1536, 256, 4, { pixelsPerCm: 40_000, description: `bench slide ${i}` })).bytes);
  sources.push(path);
}
const archiveOf = (node: number) => join(work, `archive-${node}`);
const perNode = Array.from({ length: nodeCount }, () => 0);
for (let i = 0; i < total; i++) {
  const node = i % nodeCount;
  perNode[node]!++;
  const folder = join(archiveOf(node), `20${String(10 + (i % 10))}`, `batch-${Math.floor(i / 1000)}`);
  await mkdir(folder, { recursive: true });
  const name = `B${String(i).padStart(7, "0")}-A1`;
  await link(sources[i % distinct]!, join(folder, `${name}.tif`));
  await writeFile(
    join(folder, `${name}.json`),
    JSON.stringify({ case: `B${String(Math.floor(i / 3)).padStart(7, "0")}`, block: `A${(i % 3) + 1}`, stain: "H&E", patient: `P${i % 997}` }),
  );
}

const hub = await startHubProcess({ port: Number(values.port), dataDir: join(work, "hub") });
let peakHubRss = 0;
let peakByProcess: { rssMiB: number; command: string }[] = [];
const sample = async () => {
  const tree = await processTree(hub.pid()!);
  const rss = tree.reduce((sum, p) => sum + p.rssBytes, 0);
  if (rss > peakHubRss) {
    peakHubRss = rss;
    peakByProcess = tree
      .filter((p) => p.rssBytes > 50 * 2 ** 20)
      .map((p) => ({ rssMiB: Math.round(p.rssBytes / 2 ** 20), command: p.command.slice(0, 80) }))
      .sort((a, b) => b.rssMiB - a.rssMiB);
  }
};
const hubCpu = async () => (await processTree(hub.pid()!)).reduce((sum, p) => sum + p.cpuSeconds, 0);
const sampler = setInterval(() => void sample(), 100);
const db = await createDb(readDbEnv({ DATABASE_URL: hub.databaseUrl, DATABASE_PREPARE: "false" }));
try {
  const labs = ["east", "north", "south"];
  const envs: Record<string, string>[] = [];
  for (let n = 0; n < nodeCount; n++) {
    const admin = await signInOverHttp(hub.url, `admin@${labs[n % labs.length]}.example`);
    const { token } = await admin.mutate<{ token: string }>("nodes.createEnrollmentToken");
    const env = { PATHX_NODE_CONFIG: join(work, `node-${n}`, "node.json"), PATHX_PSEUDONYM_KEY: "bench-pseudonym-key-shared-by-labs" };
    const enrolled = await runPathx(["node", "enroll", "--hub", hub.url, "--token", token, "--name", `bench-node-${n}`], env);
    if (enrolled.code !== 0) throw new Error(enrolled.stderr);
    envs.push(values["node-options"] ? { ...env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} ${values["node-options"]}`.trim() } : env);
  }

  const idleHubRss = peakHubRss;
  peakHubRss = 0;
  const loadBefore = load();
  const [cpuBefore, hubCpuBefore] = [await childrenCpuSeconds(), await hubCpu()];
  const started = performance.now();
  const runs = envs.map((env, n) => spawnPathx(["node", "backlog", archiveOf(n)], env));
  const codes = await Promise.all(runs.map((r) => r.exited));
  const seconds = (performance.now() - started) / 1000;
  const [nodesCpu, hubCpuUsed] = [(await childrenCpuSeconds()) - cpuBefore, (await hubCpu()) - hubCpuBefore];
  const loadAfter = load();
  codes.forEach((code, n) => {
    if (code !== 0) throw new Error(`backlog of node ${n} failed (${code}):\n${runs[n]!.output()}`);
  });

  // Every record exactly once: per node, as many rows as slides, no file name twice, every name there.
  type Counted = { node: string; rows: number; names: number; refs: number };
  const rowsOf = <T>(result: unknown): T[] => (Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows);
  const counted = await db.db.execute(sql`
    select n.name as node, count(s.id)::int as rows, count(distinct s.file_name)::int as names, count(distinct s.node_ref)::int as refs
    from nodes n left join slides s on s.published_by_node_id = n.id and s.status = 'indexed'
    where n.name like 'bench-node-%' group by n.name order by n.name`);
  const rows = rowsOf<Counted>(counted);
  const problems: string[] = [];
  for (let n = 0; n < nodeCount; n++) {
    const row = rows.find((r) => r.node === `bench-node-${n}`);
    const expected = perNode[n]!;
    if (!row || row.rows !== expected || row.names !== expected || row.refs !== expected) {
      problems.push(
        `MISMATCH node ${n}: expected ${expected} slides, hub has ${row?.rows ?? 0} rows, ${row?.names ?? 0} distinct names, ${row?.refs ?? 0} distinct refs`,
      );
    }
  }
  const [{ packs, thumbnails }] = rowsOf<{ packs: number; thumbnails: number }>(
    await db.db.execute(
      sql`select count(distinct split_part(thumbnail_key, '#', 1))::int as packs, count(thumbnail_key)::int as thumbnails from slides where status = 'indexed'`,
    ),
  ) as [{ packs: number; thumbnails: number }];
  // A thumbnail as the dashboard asks for it.
  const east = await signInOverHttp(hub.url, "pathologist@east.example");
  const listed = await east.query<{ id: string }[]>("slides.list", {});
  const thumb = listed[0] ? await fetch(`${hub.url}/slides/${listed[0].id}/thumbnail`, { headers: { cookie: east.cookie() } }) : undefined;
  if (thumb && (thumb.status !== 200 || (await thumb.arrayBuffer()).byteLength < 100)) problems.push(`MISMATCH thumbnail answered ${thumb.status}`);

  // Resume (nothing left) and --restart (every slide already known), node 0 only.
  const again = await runPathx(["node", "backlog", archiveOf(0)], envs[0]!);
  const restartStarted = performance.now();
  const rerun = await runPathx(["node", "backlog", archiveOf(0), "--restart"], envs[0]!);
  const restartSeconds = (performance.now() - restartStarted) / 1000;
  clearInterval(sampler);
  const result = {
    slides: total,
    nodes: nodeCount,
    cores: cpus().length,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadAfter,
    seconds: Number(seconds.toFixed(2)),
    recordsPerSecond: Math.round(total / seconds),
    hubIdleRssMiB: Math.round(idleHubRss / 2 ** 20),
    hubPeakRssMiB: Math.round(peakHubRss / 2 ** 20),
    hubPeakByProcess: peakByProcess,
    cpuSeconds: { nodes: Number(nodesCpu.toFixed(1)), hub: Number(hubCpuUsed.toFixed(1)) },
    cpuMsPerRecord: { nodes: Number(((nodesCpu * 1000) / total).toFixed(3)), hub: Number(((hubCpuUsed * 1000) / total).toFixed(3)) },
    thumbnailObjects: packs,
    thumbnails,
    problems,
    summaries: runs.map((r) => r.output().trim().split("\n").pop()!),
    resumedRun: again.stdout.trim().split("\n").pop(),
    restartedRun: rerun.stdout.trim().split("\n").pop(),
    restartedRecordsPerSecond: Math.round(perNode[0]! / restartSeconds),
  };
  console.log(JSON.stringify(result, null, 2));
  await mkdir(new URL("../out/", import.meta.url), { recursive: true });
  await writeFile(new URL(`../out/backlog-${total}-${nodeCount}.json`, import.meta.url), JSON.stringify(result, null, 2));
  console.log(
    `\n${total} slide records from ${nodeCount} node(s) in ${seconds.toFixed(1)} s including process start: ${result.recordsPerSecond} records/s (target ≥ 2 000); ` +
      `hub peak RSS ${result.hubPeakRssMiB} MiB (target < 1 536); CPU ms/record nodes ${result.cpuMsPerRecord.nodes}, hub ${result.cpuMsPerRecord.hub}; ` +
      `${problems.length ? `${problems.length} PROBLEMS` : "every record at the hub exactly once"}; load average ${loadBefore} → ${loadAfter} on ${cpus().length} cores`,
  );
  for (const p of problems) console.log(p);
  if (problems.length) process.exitCode = 1;
} finally {
  clearInterval(sampler);
  await db.close();
  await hub.stop();
  if (!values.keep) await rm(work, { recursive: true, force: true });
}
