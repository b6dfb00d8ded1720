import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { copyFile, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { and, asc, count, eq, inArray } from "drizzle-orm";
import { createEnrollmentToken } from "@pathx/api";
import { createDb, readDbEnv, schema } from "@pathx/db";
import { pyramidImages, writeTestTiff } from "@pathx/wsi/test-support";
import { type HubProcess, startHubProcess } from "@pathx/node/test-support";
import { childrenCpuSeconds, machineBusySeconds, processTree, type TreeProcess } from "../lib/measure";

/**
 * bench/federation: many lab nodes publish slides to one hub at the same time, on loopback.
 * Each node is the real agent (`pathx node …` processes with their own credential file); the hub
 * is `scripts/start.sh` (embedded PGlite, local object folder). Reports slides/s, MB/s and the
 * hub's peak RSS, and checks every slide arrived intact (database row and stored object).
 */
const { values } = parseArgs({
  options: {
    nodes: { type: "string", default: "50" },
    "slides-per-node": { type: "string", default: "2" },
    "slide-mb": { type: "string", default: "4" },
    agent: { type: "string", default: "watch" },
    interval: { type: "string", default: "0.5" },
    port: { type: "string", default: "3410" },
    timeout: { type: "string", default: "600" },
    keep: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(
    "npm run -w bench federation -- [--nodes 50] [--slides-per-node 2] [--slide-mb 4] [--agent watch|publish] [--interval S] [--port 3410] [--timeout S] [--keep]",
  );
  process.exit(0);
}
const positive = (flag: string, value: string | undefined, integer: boolean) => {
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) throw new Error(`--${flag} takes a ${integer ? "whole " : ""}number > 0 (got "${value}")`);
  return n;
};
const nodeCount = positive("nodes", values.nodes, true);
const slidesPerNode = positive("slides-per-node", values["slides-per-node"], true);
const slideMb = positive("slide-mb", values["slide-mb"], false);
const interval = positive("interval", values.interval, false);
const port = positive("port", values.port, true);
const timeoutSeconds = positive("timeout", values.timeout, false);
const agentMode = values.agent;
if (agentMode !== "publish" && agentMode !== "watch") throw new Error(`--agent is publish or watch (got "${agentMode}")`);

const repo = new URL("../../", import.meta.url).pathname;
const out = join(repo, "bench/out");
const pathxBin = join(repo, "apps/node/bin/pathx.js");
const pseudonymKey = "federation-bench-shared-lab-key";
const MB = 1e6;
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const seconds = (from: number, to = performance.now()) => (to - from) / 1000;

interface BenchSlide {
  file: string;
  fileName: string;
  accession: string;
  block: string;
  patient: string;
  size: number;
  sha256: string;
  outcome?: "published" | "duplicate" | "failed";
  slideId?: string;
  /** From the start of the publishing phase to the agent's report that this slide is published. */
  doneAfterSeconds?: number;
  error?: string;
}
interface BenchNode {
  name: string;
  dir: string;
  lab: { id: string; slug: string };
  nodeId?: string;
  slides: BenchSlide[];
}

// ---- 1. Slides: one synthetic pyramid rendered once, numbered copies (each its own SHA-256).
// Every copy carries its own number in ImageDescription (same length, so no offset moves): the
// pixels are shared, the files are distinct, and the hub stores each as its own slide.
const marker = (n: number) => Buffer.from(`pathx federation bench slide ${String(n).padStart(6, "0")}`, "latin1");
function renderSlide(side: number): Buffer {
  const levels = Math.max(1, Math.floor(Math.log2(side / 256)) + 1);
  return writeTestTiff(pyramidImages(side, side, 256, levels, { description: marker(0).toString("latin1"), pixelsPerCm: 40_000 })).bytes;
}
function numbered(base: Buffer, n: number): Buffer {
  const copy = Buffer.from(base);
  const from = marker(0);
  let found = 0;
  for (let at = copy.indexOf(from); at >= 0; at = copy.indexOf(from, at + from.length)) {
    marker(n).copy(copy, at);
    found++;
  }
  if (!found) throw new Error("the slide's description marker is missing; cannot number the copies");
  return copy;
}
const generated = performance.now();
// About 0.6 byte per level-0 pixel at this content and quality; one correction after a first try.
let side = Math.round(Math.sqrt((slideMb * MB) / 0.6));
let base = renderSlide(side);
if (Math.abs(base.length / (slideMb * MB) - 1) > 0.1) {
  side = Math.round(side * Math.sqrt((slideMb * MB) / base.length));
  base = renderSlide(side);
}
const generateSeconds = seconds(generated);

const work = await mkdtemp(join(tmpdir(), "pathx-federation-"));
const hubLog = join(work, "hub.log");
let hub: HubProcess | undefined;
let dbHandle: Awaited<ReturnType<typeof createDb>> | undefined;
const agents = new Set<ChildProcess>();
let stopping: Promise<void> | undefined;
/** Stops what this bench started: agents, the database connection, the hub's process group. */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const agent of agents) agent.kill("SIGTERM");
    await dbHandle?.close().catch(() => {});
    await hub?.stop();
    await mkdir(out, { recursive: true });
    await copyFile(hubLog, join(out, "federation-hub.log")).catch(() => {});
    if (!values.keep) await rm(work, { recursive: true, force: true });
  })();
  return stopping;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stopAll().then(() => process.exit(130)));

/** Runs `pathx ARGS` as one lab node: its own credential file, the labs' shared pseudonym key. */
function spawnAgent(node: BenchNode, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [pathxBin, ...args], {
    env: { ...process.env, PATHX_NODE_CONFIG: join(node.dir, "node.json"), PATHX_PSEUDONYM_KEY: pseudonymKey },
    stdio: ["ignore", "pipe", "pipe"],
  });
  agents.add(child);
  child.on("exit", () => agents.delete(child));
  return child;
}
/** Runs an agent command to its end; it is killed if it is still running at `killAt` (Date.now() time). */
async function runAgent(node: BenchNode, args: string[], killAt = Infinity): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawnAgent(node, args);
  const timer = killAt < Infinity ? setTimeout(() => child.kill("SIGKILL"), Math.max(0, killAt - Date.now())) : undefined;
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  // "close", not "exit": only then has all of its output been read.
  const code = await new Promise<number>((resolve) => {
    child.on("error", () => resolve(127));
    child.on("close", (c) => resolve(c ?? 1));
  });
  clearTimeout(timer);
  return { code, stdout, stderr };
}
async function inPool<T>(items: T[], concurrency: number, run: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}
async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Which part of the hub a process of its tree is (scripts/run.ts hosts the embedded database). */
function hubRole(p: TreeProcess): string {
  if (p.command.startsWith("next-server")) return "web app";
  // `node [--require …] --import tsx SCRIPT.ts` (or tsx's loader.mjs before it, in older trees).
  const script = /(\S+\.ts)(?:\s|$)/.exec(p.command)?.[1] ?? "";
  if (script.endsWith("hub/scripts/run.ts")) return "supervisor + PGlite";
  if (script.endsWith("apps/worker/src/main.ts")) return "tiling worker";
  if (script.endsWith("apps/tiles/src/main.ts")) return "tile service";
  return "launchers";
}
const byRole = (tree: TreeProcess[], measure: "rssBytes" | "cpuSeconds") => {
  const roles: Record<string, number> = {};
  for (const p of tree) roles[hubRole(p)] = (roles[hubRole(p)] ?? 0) + p[measure];
  return roles;
};

const mismatches: string[] = [];
try {
  console.log(
    `federation: ${nodeCount} nodes × ${slidesPerNode} slide(s) of ${(base.length / MB).toFixed(2)} MB (${side} px square pyramid), agent mode "${agentMode}"; ` +
      `${cpus().length} cores, load ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
  );
  console.log(`slide rendered in ${generateSeconds.toFixed(1)} s; work folder ${work}`);

  // ---- 2. The hub, twice: the first start migrates, seeds and tiles the demo slides (one of
  // them 40 000 × 30 000); the measured hub is a fresh start on that data, idle at the outset.
  const hubOptions = { port, dataDir: join(work, "hub"), authSecret: "bench-federation-secret-0123456789", workers: 1, demoSlides: true, logFile: hubLog };
  console.log(`starting the hub on port ${port} (seeds demo data; builds the web app first if it is out of date)…`);
  let started = performance.now();
  hub = await startHubProcess(hubOptions);
  // The hub's own database, over the embedded server (its connections share one session).
  const connect = async () => {
    dbHandle = await createDb(readDbEnv({ DATABASE_URL: hub!.databaseUrl, DATABASE_PREPARE: "false" }));
    return dbHandle.db;
  };
  let db = await connect();
  const { slides, labs, memberships } = schema;
  for (;;) {
    const [busy] = await db
      .select({ n: count() })
      .from(slides)
      .where(inArray(slides.status, ["received", "tiling"]));
    if (Number(busy!.n) === 0) break;
    if (seconds(started) > 600) throw new Error("the demo slides were not tiled within 10 minutes");
    await new Promise((r) => setTimeout(r, 1000));
  }
  await dbHandle?.close();
  dbHandle = undefined;
  await hub.stop();
  console.log(`hub seeded and demo slides tiled in ${seconds(started).toFixed(0)} s; restarting it fresh`);
  started = performance.now();
  hub = await startHubProcess(hubOptions);
  db = await connect();
  console.log(`hub answering again after ${seconds(started).toFixed(1)} s`);

  // ---- 3. Labs, their policy, one enrolment token per node (made by each lab's admin).
  const labRows = await db.select({ id: labs.id, slug: labs.slug }).from(labs).orderBy(asc(labs.createdAt), asc(labs.slug));
  if (labRows.length === 0) throw new Error("the hub has no labs; the seed did not run");
  // Label and macro are shared, so the node uploads each file as it is: what the bench hashed
  // here is byte for byte what must arrive (stripping would upload a rewritten temporary copy).
  await db.update(labs).set({ shareLabelMacro: true });
  const admins = new Map<string, string>();
  for (const lab of labRows) {
    const [admin] = await db
      .select({ userId: memberships.userId })
      .from(memberships)
      .where(and(eq(memberships.labId, lab.id), eq(memberships.role, "lab_admin")))
      .limit(1);
    if (!admin) throw new Error(`lab ${lab.slug} has no lab admin to create enrolment tokens`);
    admins.set(lab.id, admin.userId);
  }

  const nodes: BenchNode[] = [];
  let number = 0;
  for (let i = 0; i < nodeCount; i++) {
    const name = `fed-node-${String(i + 1).padStart(2, "0")}`;
    const node: BenchNode = { name, dir: join(work, "nodes", name), lab: labRows[i % labRows.length]!, slides: [] };
    const folder = join(node.dir, agentMode === "watch" ? "staging" : "slides");
    await mkdir(folder, { recursive: true });
    if (agentMode === "watch") await mkdir(join(node.dir, "inbox"));
    for (let k = 0; k < slidesPerNode; k++) {
      const bytes = numbered(base, ++number);
      const slide: BenchSlide = {
        fileName: `F${String(i + 1).padStart(2, "0")}-A${k + 1}.tif`,
        file: "",
        accession: `FED26-${String(i + 1).padStart(4, "0")}`,
        block: `A${k + 1}`,
        patient: `FED-PATIENT-${i + 1}`,
        size: bytes.length,
        sha256: createHash("sha256").update(bytes).digest("hex"),
      };
      slide.file = join(folder, slide.fileName);
      await writeFile(slide.file, bytes);
      if (agentMode === "watch") {
        const sidecar = { case: slide.accession, block: slide.block, stain: "H&E", specimen: "federation bench", patient: slide.patient };
        await writeFile(slide.file.replace(/\.tif$/, ".json"), JSON.stringify(sidecar));
      }
      node.slides.push(slide);
    }
    nodes.push(node);
  }
  const allSlides = nodes.flatMap((n) => n.slides);
  const payloadBytes = allSlides.reduce((sum, s) => sum + s.size, 0);

  // ---- 4. Enrol every node with `pathx node enroll` (not measured).
  started = performance.now();
  await inPool(nodes, 10, async (node) => {
    const { token } = await createEnrollmentToken(db, node.lab.id, admins.get(node.lab.id)!);
    const run = await runAgent(node, ["node", "enroll", "--hub", hub!.url, "--token", token, "--name", node.name]);
    if (run.code !== 0) throw new Error(`${node.name}: pathx node enroll failed (exit ${run.code}): ${(run.stderr || run.stdout).trim()}`);
    const config = JSON.parse(await readFile(join(node.dir, "node.json"), "utf8")) as { nodeId: string; lab: { slug: string } };
    if (config.lab.slug !== node.lab.slug) throw new Error(`${node.name} enrolled into lab ${config.lab.slug}, not ${node.lab.slug}`);
    node.nodeId = config.nodeId;
  });
  const perLab = labRows.map((lab) => `${nodes.filter((n) => n.lab.id === lab.id).length} ${lab.slug}`).join(", ");
  console.log(`${nodeCount} nodes enrolled (${perLab}) in ${seconds(started).toFixed(1)} s`);

  // ---- 5. Watch mode: the node agents run before the clock starts, as a lab's agent would.
  const watchers: Promise<void>[] = [];
  let t0 = 0;
  if (agentMode === "watch") {
    let ready = 0;
    for (const node of nodes) {
      const child = spawnAgent(node, ["node", "watch", join(node.dir, "inbox"), "--interval", String(interval)]);
      let pending = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split("\n");
        pending = lines.pop()!;
        for (const line of lines) {
          if (/ watching /.test(line)) ready++;
          const done = /^\S+ (\S+): (published|already published) as slide ([0-9a-f-]{36})$/.exec(line);
          const failed = /^\S+ (\S+): (.*); will retry$/.exec(line);
          const slide = node.slides.find((s) => s.fileName === (done ?? failed)?.[1]);
          if (slide && done)
            Object.assign(slide, { outcome: done[2] === "published" ? "published" : "duplicate", slideId: done[3], doneAfterSeconds: seconds(t0) });
          if (slide && failed) slide.error = failed[2];
        }
      });
      child.stderr!.on("data", (chunk: Buffer) => process.stderr.write(`${node.name}: ${chunk.toString()}`));
      watchers.push(
        new Promise((resolve) =>
          child.on("exit", (code, signal) => {
            if (!stopping && signal !== "SIGTERM")
              for (const s of node.slides) if (!s.outcome) Object.assign(s, { outcome: "failed", error: s.error ?? `pathx node watch exited (${code})` });
            resolve();
          }),
        ),
      );
    }
    for (const until = Date.now() + 120_000; ready < nodeCount; await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > until) throw new Error(`only ${ready} of ${nodeCount} watchers started within 2 minutes`);
    }
    await new Promise((r) => setTimeout(r, 2 * interval * 1000)); // their first (empty) pass is over
  }

  // ---- 6. The measured phase: every node publishes its slides at once.
  const idleTree = await processTree(hub.pid()!);
  const idleRss = idleTree.reduce((sum, p) => sum + p.rssBytes, 0);
  let peak = { rss: idleRss, roles: byRole(idleTree, "rssBytes") };
  let agentsPeakRss = 0;
  let samples = 0;
  // Two samplers, so that reading 50+ agents' /proc entries never delays the hub's samples; the
  // agents' only once a second, to keep the bench's own CPU use small.
  const every = (ms: number, sample: () => Promise<void>) => {
    let busy = false;
    return setInterval(() => {
      if (busy) return;
      busy = true;
      void sample().finally(() => (busy = false));
    }, ms);
  };
  const samplers = [
    every(100, async () => {
      const tree = await processTree(hub!.pid()!);
      const rss = tree.reduce((sum, p) => sum + p.rssBytes, 0);
      if (rss > peak.rss) peak = { rss, roles: byRole(tree, "rssBytes") };
      samples++;
    }),
    every(1000, async () => {
      const trees = await Promise.all([...agents].map((agent) => processTree(agent.pid!)));
      agentsPeakRss = Math.max(
        agentsPeakRss,
        trees.flat().reduce((sum, p) => sum + p.rssBytes, 0),
      );
    }),
  ];
  const agentsCpuBefore = await childrenCpuSeconds();
  const watcherCpuBefore = (await Promise.all([...agents].map((a) => processTree(a.pid!)))).flat().reduce((sum, p) => sum + p.cpuSeconds, 0);
  const hubCpuBefore = byRole(idleTree, "cpuSeconds");
  const machineBefore = await machineBusySeconds();
  const selfBefore = process.cpuUsage();
  t0 = performance.now();
  const deadline = Date.now() + timeoutSeconds * 1000;
  if (agentMode === "publish") {
    await Promise.all(
      nodes.map(async (node) => {
        for (const slide of node.slides) {
          if (Date.now() > deadline) Object.assign(slide, { outcome: "failed", error: "not started before --timeout" });
          if (slide.outcome) continue;
          const run = await runAgent(
            node,
            [
              "node",
              "publish",
              slide.file,
              "--case",
              slide.accession,
              "--block",
              slide.block,
              "--stain",
              "H&E",
              "--specimen",
              "federation bench",
              "--patient",
              slide.patient,
            ],
            deadline,
          );
          const done = /^(published slide|already published as slide) ([0-9a-f-]{36})/m.exec(run.stdout);
          if (run.code === 0 && done)
            Object.assign(slide, { outcome: done[1] === "published slide" ? "published" : "duplicate", slideId: done[2], doneAfterSeconds: seconds(t0) });
          else Object.assign(slide, { outcome: "failed", error: `exit ${run.code}: ${(run.stderr || run.stdout).trim()}` });
        }
      }),
    );
  } else {
    // Sidecar first, then the slide: each rename is atomic, so a watcher never sees half a file.
    for (const node of nodes) {
      for (const slide of node.slides) {
        await rename(slide.file.replace(/\.tif$/, ".json"), join(node.dir, "inbox", slide.fileName.replace(/\.tif$/, ".json")));
        await rename(slide.file, join(node.dir, "inbox", slide.fileName));
      }
    }
    while (allSlides.some((s) => !s.outcome)) {
      if (Date.now() > deadline) {
        for (const s of allSlides) if (!s.outcome) Object.assign(s, { outcome: "failed", error: s.error ?? "not published before --timeout" });
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const finished = allSlides.filter((s) => s.outcome !== "failed");
  const wallSeconds = finished.length ? Math.max(...finished.map((s) => s.doneAfterSeconds!)) : seconds(t0);
  const endTree = await processTree(hub.pid()!);
  const machineBusy = (await machineBusySeconds()) - machineBefore;
  const selfCpu = (({ user, system }) => (user + system) / 1e6)(process.cpuUsage(selfBefore));
  const watcherCpu = (await Promise.all([...agents].map((a) => processTree(a.pid!)))).flat().reduce((sum, p) => sum + p.cpuSeconds, 0) - watcherCpuBefore;
  for (const sampler of samplers) clearInterval(sampler);
  const hubCpuByRole = Object.fromEntries(Object.entries(byRole(endTree, "cpuSeconds")).map(([role, cpu]) => [role, cpu - (hubCpuBefore[role] ?? 0)]));
  const hubCpu = Object.values(hubCpuByRole).reduce((sum, cpu) => sum + cpu, 0);
  for (const agent of agents) agent.kill("SIGTERM");
  await Promise.all(watchers);
  const agentsCpu = agentMode === "watch" ? watcherCpu : (await childrenCpuSeconds()) - agentsCpuBefore;
  // What the rest of the machine did meanwhile: figures are only comparable when this is ≈ 0.
  const othersCpu = Math.max(0, machineBusy - hubCpu - agentsCpu - selfCpu);

  // ---- 7. Did every slide arrive intact? The hub's row against what the node sent, and the
  // stored source object hashed again from the hub's folder.
  const nodeIds = nodes.map((n) => n.nodeId!);
  const rows = await db
    .select({
      id: slides.id,
      labId: slides.labId,
      nodeId: slides.publishedByNodeId,
      fileName: slides.fileName,
      size: slides.sizeBytes,
      sha256: slides.sha256,
      sourceKey: slides.sourceKey,
      status: slides.status,
    })
    .from(slides)
    .where(inArray(slides.publishedByNodeId, nodeIds));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const storageDir = join(hubOptions.dataDir, "objects");
  let verified = 0;
  await inPool(nodes, 4, async (node) => {
    for (const slide of node.slides) {
      const where = `${node.name} ${slide.fileName}`;
      if (slide.outcome !== "published") {
        mismatches.push(`${where}: ${slide.outcome === "duplicate" ? `reported as a duplicate of slide ${slide.slideId}` : `not published (${slide.error})`}`);
        continue;
      }
      const row = byId.get(slide.slideId!);
      if (!row) {
        mismatches.push(`${where}: the agent reported slide ${slide.slideId}, which the hub's database does not have for these nodes`);
        continue;
      }
      const problems: string[] = [];
      if (row.sha256 !== slide.sha256) problems.push(`row sha256 ${row.sha256} ≠ sent ${slide.sha256}`);
      if (row.size !== slide.size) problems.push(`row size ${row.size} ≠ sent ${slide.size}`);
      if (row.nodeId !== node.nodeId) problems.push(`published by node ${row.nodeId}, not ${node.nodeId}`);
      if (row.labId !== node.lab.id) problems.push(`stored in lab ${row.labId}, not ${node.lab.slug}`);
      if (row.fileName !== slide.fileName) problems.push(`file name ${row.fileName}`);
      const object = row.sourceKey ? join(storageDir, ...row.sourceKey.split("/")) : "";
      const stored = object ? await stat(object).catch(() => undefined) : undefined;
      if (!stored) problems.push(`source object ${row.sourceKey} missing`);
      else {
        if (stored.size !== slide.size) problems.push(`source object has ${stored.size} bytes, sent ${slide.size}`);
        const sha = await sha256OfFile(object);
        if (sha !== slide.sha256) problems.push(`source object sha256 ${sha} ≠ sent ${slide.sha256}`);
      }
      if (problems.length) mismatches.push(`${where} (slide ${row.id}): ${problems.join("; ")}`);
      else verified++;
    }
  });
  const reported = new Set(allSlides.map((s) => s.slideId));
  for (const row of rows) if (!reported.has(row.id)) mismatches.push(`slide ${row.id} (${row.fileName}) is in the hub but no agent reported it`);
  const tiledByEnd = rows.filter((r) => r.status === "ready").length;

  // ---- 8. Report.
  const published = allSlides.filter((s) => s.outcome === "published").length;
  const publishedBytes = allSlides.filter((s) => s.outcome === "published").reduce((sum, s) => sum + s.size, 0);
  const doneTimes = finished.map((s) => s.doneAfterSeconds!).sort((a, b) => a - b);
  const result = {
    nodes: nodeCount,
    labs: Object.fromEntries(labRows.map((lab) => [lab.slug, nodes.filter((n) => n.lab.id === lab.id).length])),
    slidesPerNode,
    agentMode,
    watchIntervalSeconds: agentMode === "watch" ? interval : undefined,
    slideBytes: base.length,
    slideSidePx: side,
    slides: allSlides.length,
    published,
    verified,
    payloadBytes,
    wallSeconds,
    slidesPerSecond: published / wallSeconds,
    megabytesPerSecond: publishedBytes / MB / wallSeconds,
    firstSlideDoneSeconds: doneTimes[0],
    hub: {
      idleRssBytes: idleRss,
      idleRssByRole: byRole(idleTree, "rssBytes"),
      peakRssBytes: peak.rss,
      peakRssByRole: peak.roles,
      cpuSeconds: hubCpu,
      cpuSecondsByRole: hubCpuByRole,
      cores: hubCpu / wallSeconds,
      rssSamples: samples,
      workers: 1,
      slidesTiledByEnd: tiledByEnd,
    },
    agents: { cpuSeconds: agentsCpu, peakRssBytes: agentsPeakRss, processes: agentMode === "watch" ? nodeCount : allSlides.length },
    benchCpuSeconds: selfCpu,
    machine: { cores: cpus().length, loadavg: loadavg(), busyCpuSeconds: machineBusy, otherProcessesCpuSeconds: othersCpu },
    mismatches,
    perSlide: allSlides.map((s) => ({
      file: s.fileName,
      size: s.size,
      sha256: s.sha256,
      outcome: s.outcome,
      slideId: s.slideId,
      doneAfterSeconds: s.doneAfterSeconds,
      error: s.error,
    })),
  };
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "federation-results.json"), `${JSON.stringify(result, null, 2)}\n`);

  const table: [string, string][] = [
    [
      "nodes",
      `${nodeCount} (${perLab}), ${agentMode === "watch" ? `one \`pathx node watch\` each (interval ${interval} s)` : "one `pathx node publish` process per slide"}`,
    ],
    ["slides", `${published} of ${allSlides.length} published, ${verified} verified intact (row sha256 + size, object re-hashed)`],
    ["payload", `${(payloadBytes / MB).toFixed(1)} MB (${allSlides.length} × ${(base.length / MB).toFixed(2)} MB)`],
    ["wall", `${wallSeconds.toFixed(1)} s (first slide done after ${doneTimes[0]?.toFixed(1) ?? "–"} s)`],
    ["throughput", `${result.slidesPerSecond.toFixed(2)} slides/s, ${result.megabytesPerSecond.toFixed(1)} MB/s`],
    [
      "hub RSS",
      `idle ${mib(idleRss)} → peak ${mib(peak.rss)} (${Object.entries(peak.roles)
        .map(([role, bytes]) => `${role} ${mib(bytes)}`)
        .join(", ")})`,
    ],
    [
      "hub CPU",
      `${hubCpu.toFixed(1)} s = ${result.hub.cores.toFixed(2)} cores over the wall time (${Object.entries(hubCpuByRole)
        .map(([role, cpu]) => `${role} ${cpu.toFixed(1)} s`)
        .join(", ")})`,
    ],
    ["agents", `${agentsCpu.toFixed(1)} s CPU, peak RSS ${mib(agentsPeakRss)} all together`],
    [
      "machine",
      `${machineBusy.toFixed(1)} s CPU busy of ${(wallSeconds * cpus().length).toFixed(1)}; other processes ${othersCpu.toFixed(1)} s (≈ 0 for clean figures)`,
    ],
    ["tiling", `${tiledByEnd} of ${rows.length} published slides tiled by the end (1 worker, runs alongside)`],
  ];
  console.log("");
  for (const [label, value] of table) console.log(`${label.padEnd(11)} ${value}`);
  for (const m of mismatches) console.log(`MISMATCH ${m}`);
  console.log(`\nresults: ${join(out, "federation-results.json")}; hub log: ${join(out, "federation-hub.log")}`);
} finally {
  await stopAll();
}
process.exitCode = mismatches.length ? 1 : 0;
