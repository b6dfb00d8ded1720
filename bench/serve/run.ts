import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { eq } from "drizzle-orm";
import { derivedKeyOf, prepareSlideForViewing } from "@pathx/api";
import { tileSlide } from "@pathx/worker";
import { createDb, schema, startEmbeddedDbServer } from "@pathx/db";
import { planDeepZoomLevels } from "@pathx/wsi";
import { createLocalStore } from "@pathx/storage";
import { signTileToken } from "@pathx/tile-token";
import { writeRepeatingSlide } from "@pathx/wsi/test-support";
import { waitFor } from "../lib/hub";
import { startTileServiceProcess } from "./tile-service";
import { fetchTile } from "./http-client";
import { fetchEachOnceWithWrk } from "./wrk-each-once";
import { runViewers } from "./viewers";

// bench/serve, in one run: (1) signed passthrough tile GETs from the tile service beside nginx
// serving the same bytes as files (wrk, 100 connections); (2) computed tiles, cold cache (wrk,
// each tile once; --computed-client node for the node:http client);
// (3) 200 simulated viewers random-walking; (4) time to first view of a 40 000 × 30 000 slide
// whose source was just stored; (5) objects written per slide, before (a Deep Zoom pyramid of
// one object per tile) and after (source, derived pyramid, thumbnail…).
const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "20" },
    connections: { type: "string", default: "100" },
    viewers: { type: "string", default: "200" },
    "viewer-seconds": { type: "string", default: "60" },
    processes: { type: "string", default: String(availableParallelism()) }, // all cores, as a deployment runs it
    // A narrower run, e.g. --cases computed: passthrough, computed (with first view), viewers, objects.
    cases: { type: "string", default: "passthrough,computed,viewers,objects" },
    // Computed tiles' client: wrk (each tile once, light) or node (node:http in this process, as before).
    "computed-client": { type: "string", default: "wrk" },
    // Computed tiles: the run ends when every tile is answered; past this it stops and is reported incomplete.
    "computed-deadline": { type: "string", default: "120" },
    // A/B of tile service settings in the same minutes: after the computed case, each round runs the
    // same tiles again (wrk) against a fresh service (cold cache) per variant, e.g.
    // --computed-variants "TILE_READ_THREADS=pool|TILE_READ_THREADS=process" --computed-rounds 3.
    "computed-variants": { type: "string", default: "" },
    "computed-rounds": { type: "string", default: "3" },
  },
});
const cases = new Set(values.cases!.split(","));
const want = (name: string) => cases.has(name);
if (!["wrk", "node"].includes(values["computed-client"]!)) throw new Error(`--computed-client is wrk or node, not ${values["computed-client"]}`);
const repo = new URL("../../", import.meta.url).pathname;
const offset = Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0);
const [dbPort, tilesPort, nginxPort] = [13340 + offset, 3342 + offset, 3341 + offset];
const out = join(repo, "bench/out/serve");
for (const tool of ["wrk", "nginx"]) {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" });
  } catch {
    console.error(`bench/serve needs ${tool}: apt-get install wrk nginx-light`);
    process.exit(1);
  }
}
await rm(out, { recursive: true, force: true });
await mkdir(join(out, "objects/sources"), { recursive: true });
const secret = "bench-serve-tile-secret-0123456789abcdef";
const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(" ");
const W = 20_000;
const H = 15_000;
const [FW, FH] = [40_000, 30_000];

// Slides of 256 px JPEG tiles, one level: the top Deep Zoom level passes through, the others
// come from the derived pyramid once the background job wrote it, and are computed until then.
if (want("passthrough") || want("viewers")) await writeRepeatingSlide(join(out, "objects/sources/big.tif"), W, H, { micronsPerPixel: 0.25 });
await writeRepeatingSlide(join(out, "objects/sources/fresh.tif"), FW, FH, { micronsPerPixel: 0.25, poolSize: 89 });
const embedded = await startEmbeddedDbServer({ dataDir: join(out, "pglite"), port: dbPort });
const handle = await createDb({ DATABASE_URL: embedded.url, DATABASE_PREPARE: "false", PGLITE_DIR: "" });
await handle.migrate();
const store = createLocalStore(join(out, "objects"));
const [lab] = await handle.db.insert(schema.labs).values({ slug: "bench", name: "Bench" }).returning();
const [kase] = await handle.db.insert(schema.cases).values({ labId: lab!.id, accessionNumber: "B-1", patientPseudonym: "bench" }).returning();
const [user] = await handle.db.insert(schema.users).values({ email: "bench@example.org", name: "Bench" }).returning();
const addSlide = async (sourceKey: string) =>
  (await handle.db.insert(schema.slides).values({ labId: lab!.id, caseId: kase!.id, fileName: "big.tif", sizeBytes: 1, sourceKey }).returning())[0]!;
const big = await addSlide("sources/big.tif");
let version = "";
if (want("passthrough") || want("viewers")) {
  await prepareSlideForViewing(handle.db, store, big.id);
  // The steady state a viewer meets: the background job has written the derived pyramid.
  const bigJobStarted = performance.now();
  await tileSlide(handle.db, store, big.id);
  console.log(`background job of a ${W} × ${H} slide (thumbnail, derived pyramid): ${((performance.now() - bigJobStarted) / 1000).toFixed(1)} s`);
  const [bigRow] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, big.id));
  version = bigRow!.tilesPrefix!.split("/").pop()!;
}
const tokenFor = (slideId: string, v: string) =>
  signTileToken(secret, { slideId, version: v, userId: user!.id, issuedAt: Date.now(), expiresAt: Date.now() + 3_600_000 });

let service = await startTileServiceProcess({
  port: tilesPort,
  databaseUrl: embedded.url,
  storageDir: join(out, "objects"),
  secret,
  processes: Number(values.processes),
});
let nginx: ChildProcess | undefined;
const results: Record<string, unknown> = {};
try {
  const base = `http://127.0.0.1:${tilesPort}/tiles/${big.id}/${version}`;
  const token = version ? tokenFor(big.id, version) : "";
  const levels = planDeepZoomLevels(W, H, 256);
  const top = levels[0]!; // planDeepZoomLevels lists the full-size level first
  if (want("passthrough")) {
    // (1) Passthrough: interior tiles of the top level, fetched once (also written for nginx).
    const picks = new Set<string>();
    for (let i = 0; picks.size < 2000 && i < 100_000; i++)
      picks.add(`${1 + Math.floor(Math.random() * (top.cols - 2))}_${1 + Math.floor(Math.random() * (top.rows - 2))}`);
    const files = [...picks].map((p) => `slide_files/${top.level}/${p}.jpeg`);
    for (const file of files) {
      const response = await fetch(`${base}/${file}?t=${token}`);
      if (response.status !== 200) throw new Error(`${file}: HTTP ${response.status}`);
      await mkdir(join(out, "nginx-root", file, ".."), { recursive: true });
      await writeFile(join(out, "nginx-root", file), Buffer.from(await response.arrayBuffer()));
    }
    await writeFile(join(out, "tiles-paths.txt"), files.map((f) => `/tiles/${big.id}/${version}/${f}?t=${token}`).join("\n"));
    await writeFile(join(out, "nginx-paths.txt"), files.map((f) => `/${f}`).join("\n"));
    const conf = join(out, "nginx.conf");
    await writeFile(
      conf,
      `worker_processes ${values.processes}; daemon off; pid ${join(out, "nginx.pid")}; error_log ${join(out, "nginx-error.log")};
  events { worker_connections 1024; }
  http { access_log off; sendfile on; keepalive_requests 100000;
    server { listen 127.0.0.1:${nginxPort}; root ${join(out, "nginx-root")}; location / { add_header Cache-Control "private, max-age=86400, immutable"; } } }
  `,
    );
    nginx = spawn("nginx", ["-c", conf, "-p", out], { stdio: "inherit" });
    await waitFor(`http://127.0.0.1:${nginxPort}/${files[0]}`, 10);
    // wrk runs beside this process, not blocking it: the embedded database server lives here, and a
    // tile process opening the slide for the first time asks it for the slide's record.
    const wrk = async (name: string, port: number, paths: string) => {
      const { stdout: output } = await promisify(execFile)(
        "wrk",
        [
          "-t",
          "2",
          "-c",
          values.connections!,
          "-d",
          `${values.duration}s`,
          "--latency",
          "-s",
          join(import.meta.dirname, "random-tiles.lua"),
          `http://127.0.0.1:${port}`,
        ],
        {
          encoding: "utf8",
          env: { ...process.env, BENCH_PATHS: join(out, paths), BENCH_COOKIE: "" },
        },
      );
      const result = /RESULT requests=(\d+) seconds=([\d.]+) non2xx=(\d+) errors=(\d+) p50ms=([\d.]+) p99ms=([\d.]+)/.exec(output);
      if (!result) throw new Error(`wrk printed no result:\n${output}`);
      const [requests, seconds, non2xx, errors, p50, p99] = result.slice(1).map(Number) as number[];
      const perSecond = requests! / seconds!;
      const other = /statuses=(\S*)/.exec(output)?.[1];
      const kinds = /ERRORS (.*)/.exec(output)?.[1];
      console.log(
        `${name.padEnd(34)} ${perSecond.toFixed(0).padStart(7)} req/s   p50 ${p50!.toFixed(1).padStart(6)} ms   p99 ${p99!.toFixed(1).padStart(6)} ms   non-2xx ${non2xx}${other ? ` (${other})` : ""}   errors ${errors}${errors ? ` (${kinds})` : ""}`,
      );
      return { perSecond, p50: p50!, p99: p99!, non2xx: non2xx!, errors: errors! };
    };
    console.log(
      `passthrough: ${files.length} random interior tiles of the top level (${top.cols} × ${top.rows}); ${values.connections} connections, ${values.duration} s each; ${values.processes} tile processes and nginx workers; load average ${load()}`,
    );
    const tiles = await wrk("tile service (signed, passthrough)", tilesPort, "tiles-paths.txt");
    const nginxResult = await wrk("nginx (the same bytes as files)", nginxPort, "nginx-paths.txt");
    console.log(
      `tile service / nginx: ${(tiles.perSecond / nginxResult.perSecond).toFixed(2)}× throughput (target ≥ 0.5×), p99 ${tiles.p99.toFixed(1)} ms (target < 50 ms)`,
    );
    results.passthrough = { tileService: tiles, nginx: nginxResult, ratio: tiles.perSecond / nginxResult.perSecond, load: load() };
  }

  // The fresh slide of (2) and (5): made viewable in (2), its background job run in (5).
  const fresh = await addSlide("sources/fresh.tif");
  if (want("computed")) {
    // (2) Computed tiles, cold: a slide whose source was just stored (no derived pyramid yet),
    //     distinct tiles of the level below the top (each: 4 source tiles decoded, shrunk, encoded).
    const t0 = performance.now();
    await prepareSlideForViewing(handle.db, store, fresh.id);
    const [freshRow] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, fresh.id));
    const freshVersion = freshRow!.tilesPrefix!.split("/").pop()!;
    const freshBase = `http://127.0.0.1:${tilesPort}/tiles/${fresh.id}/${freshVersion}`;
    const freshToken = tokenFor(fresh.id, freshVersion);
    const freshLevels = planDeepZoomLevels(FW, FH, 256);
    const freshTop = freshLevels[0]!;
    // (4) Time to first view, measured here: source stored (as when an upload or a node's publish
    //     completes) → what completeUpload does → first tile of the slide served (cold slide).
    const first = await fetch(
      `${freshBase}/slide_files/${freshTop.level}/${Math.floor(freshTop.cols / 2)}_${Math.floor(freshTop.rows / 2)}.jpeg?t=${freshToken}`,
    );
    await first.arrayBuffer();
    const firstViewMs = performance.now() - t0;
    const overviewStarted = performance.now();
    const overview = await fetch(`${freshBase}/slide_files/${freshTop.level - 2}/1_1.jpeg?t=${freshToken}`);
    await overview.arrayBuffer();
    const overviewMs = performance.now() - overviewStarted;
    const below = freshLevels[1]!;
    const computed: string[] = [];
    for (let r = 2; r < below.rows && computed.length < 3000; r++)
      for (let c = 0; c < below.cols && computed.length < 3000; c++) computed.push(`${freshBase}/slide_files/${below.level}/${c}_${r}.jpeg?t=${freshToken}`);
    const loadBefore = load();
    const cpuBefore = service.cpuSeconds();
    let measured: { perSecond: number; failed: number; clientCpuMs: number; detail: string; complete: boolean; p50?: number; p99?: number };
    // Every computed tile once, through wrk (the tile service on tilesPort: the first, or a variant's).
    const fetchComputedOnce = () =>
      fetchEachOnceWithWrk({
        origin: `http://127.0.0.1:${tilesPort}`,
        pathsFile: join(out, "computed-paths.txt"),
        paths: computed.length,
        threads: 2,
        connections: Number(values.connections),
        deadlineSeconds: Number(values["computed-deadline"]),
      });
    if (values["computed-client"] === "node") {
      let next = 0;
      let failed = 0;
      const latencies: number[] = [];
      const clientBefore = process.cpuUsage();
      const started = performance.now();
      await Promise.all(
        Array.from({ length: Number(values.connections) }, async () => {
          while (next < computed.length) {
            const url = computed[next++]!;
            const asked = performance.now();
            if ((await fetchTile(url)) !== 200) failed++;
            latencies.push(performance.now() - asked);
          }
        }),
      );
      const perSecond = computed.length / ((performance.now() - started) / 1000);
      // This process's CPU over the same time (the HTTP client, and the embedded database, idle here).
      const client = process.cpuUsage(clientBefore);
      latencies.sort((a, b) => a - b);
      const [p50, p99] = [latencies[Math.floor(latencies.length * 0.5)]!, latencies[Math.floor(latencies.length * 0.99)]!];
      measured = {
        perSecond,
        failed,
        clientCpuMs: (client.user + client.system) / 1000,
        detail: `node:http client, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms`,
        complete: true,
        p50,
        p99,
      };
    } else {
      // wrk, each tile once over 2 threads, ended as soon as all are answered (each-tile-once.lua).
      await writeFile(join(out, "computed-paths.txt"), computed.map((url) => new URL(url).pathname + new URL(url).search).join("\n"));
      const run = await fetchComputedOnce();
      measured = {
        perSecond: run.perSecond,
        failed: run.non200 + run.errors + (run.paths - run.answered),
        clientCpuMs: run.clientCpuMs,
        complete: run.complete,
        p50: run.p50,
        p99: run.p99,
        detail: `wrk: ${run.answered}/${run.paths} answered in ${run.seconds.toFixed(2)} s, p50 ${run.p50.toFixed(1)} ms, p99 ${run.p99.toFixed(1)} ms, non-200 ${run.non200}${run.statuses ? ` (${run.statuses})` : ""}, errors ${run.errors}${run.errors ? ` (${run.errorKinds})` : ""}`,
      };
      if (!run.complete) process.exitCode = 1;
      if (!run.complete) console.error(`computed tiles: INCOMPLETE at the ${values["computed-deadline"]} s deadline: ${measured.detail}`);
    }
    // The service's own CPU per tile: what the machine's other load cannot inflate much; the
    // client shares the two cores and is counted apart.
    const cpuMsPerTile = ((service.cpuSeconds() - cpuBefore) * 1000) / computed.length;
    const clientCpuMsPerTile = measured.clientCpuMs / computed.length;
    console.log(
      `computed tiles, cold cache: ${measured.perSecond.toFixed(0)} tiles/s (${computed.length} distinct tiles of level ${below.level}, ${measured.failed} failed; target ≥ 1 000/s; ${measured.detail}); ` +
        `service CPU ${cpuMsPerTile.toFixed(2)} ms/tile (= ${(2000 / cpuMsPerTile).toFixed(0)} tiles/s on 2 free cores), client CPU ${clientCpuMsPerTile.toFixed(2)} ms/tile; load average ${loadBefore} → ${load()}`,
    );
    results.computed = {
      client: values["computed-client"],
      complete: measured.complete,
      tilesPerSecond: measured.perSecond,
      tiles: computed.length,
      errors: measured.failed,
      p50Ms: measured.p50,
      p99Ms: measured.p99,
      serviceCpuMsPerTile: cpuMsPerTile,
      clientCpuMsPerTile,
      load: `${loadBefore} → ${load()}`,
    };

    const variants = values["computed-variants"]!.split("|").filter(Boolean);
    if (variants.length > 0 && values["computed-client"] === "wrk") {
      await service.stop();
      const rows: {
        variant: string;
        round: number;
        perSecond: number;
        cpuMsPerTile: number;
        failed: number;
        load: string;
        warmCpuMsPerTile: number;
        warmPerSecond: number;
      }[] = [];
      for (let round = 1; round <= Number(values["computed-rounds"]); round++) {
        for (const variant of variants) {
          const env = Object.fromEntries(variant.split(/[ ,]+/).map((pair) => pair.split("=") as [string, string]));
          const fresh = await startTileServiceProcess({
            port: tilesPort,
            databaseUrl: embedded.url,
            storageDir: join(out, "objects"),
            secret,
            processes: Number(values.processes),
            env,
          });
          try {
            const loadAt = load();
            const cpuAt = fresh.cpuSeconds();
            const run = await fetchComputedOnce();
            const row = {
              variant,
              round,
              perSecond: run.perSecond,
              cpuMsPerTile: ((fresh.cpuSeconds() - cpuAt) * 1000) / computed.length,
              failed: run.non200 + run.errors + (run.paths - run.answered),
              load: `${loadAt} → ${load()}`,
            };
            // The same tiles again from the service's cache: what HTTP, the token and the cache lookup
            // cost a tile. Each process has its own cache: with several, a tile asked of the other
            // process is computed there (a variant with TILE_PROCESSES=1 shows HTTP alone).
            const warmCpuAt = fresh.cpuSeconds();
            const warm = await fetchComputedOnce();
            const warmCpuMsPerTile = ((fresh.cpuSeconds() - warmCpuAt) * 1000) / computed.length;
            rows.push({ ...row, warmCpuMsPerTile, warmPerSecond: warm.perSecond });
            console.log(
              `  round ${round} ${variant}: ${row.perSecond.toFixed(0)} tiles/s, service CPU ${row.cpuMsPerTile.toFixed(2)} ms/tile, ${row.failed} failed; ` +
                `cached again: ${warm.perSecond.toFixed(0)} tiles/s, ${warmCpuMsPerTile.toFixed(2)} ms/tile; load average ${row.load}`,
            );
          } finally {
            await fresh.stop();
          }
        }
      }
      for (const variant of variants) {
        const cpu = rows
          .filter((r) => r.variant === variant)
          .map((r) => r.cpuMsPerTile)
          .sort((a, b) => a - b);
        console.log(`  ${variant}: service CPU ms/tile median ${cpu[Math.floor(cpu.length / 2)]!.toFixed(2)} (${cpu.map((c) => c.toFixed(2)).join(", ")})`);
      }
      results.computedVariants = rows;
      service = await startTileServiceProcess({
        port: tilesPort,
        databaseUrl: embedded.url,
        storageDir: join(out, "objects"),
        secret,
        processes: Number(values.processes),
      });
    }

    console.log(
      `time to first view (${FW} × ${FH}; source stored → viewable → first tile, HTTP ${first.status}): ${firstViewMs.toFixed(0)} ms (target < 1 000 ms); a tile two levels down, computed from 16 source tiles: ${overviewMs.toFixed(0)} ms`,
    );
    results.firstView = { ms: firstViewMs, computedTwoLevelsDownMs: overviewMs };
  }

  if (want("viewers")) {
    // (3) Viewers panning and zooming.
    const viewers = await runViewers({
      base,
      token,
      levels,
      viewers: Number(values.viewers),
      seconds: Number(values["viewer-seconds"]),
      rssMiB: () => service.rssMiB(),
    });
    console.log(
      `${values.viewers} viewers × ~20 tiles/s for ${values["viewer-seconds"]} s: ${viewers.requests} tiles (${(viewers.requests / Number(values["viewer-seconds"])).toFixed(0)}/s), errors ${viewers.errors}, p50 ${viewers.p50.toFixed(1)} ms, p99 ${viewers.p99.toFixed(1)} ms, RSS ${viewers.rssStart.toFixed(0)} → ${viewers.rssHalf.toFixed(0)} at half time → ${viewers.rssEnd.toFixed(0)} MiB at the end (peak ${viewers.rssPeak.toFixed(0)}; second half ${viewers.rssEnd - viewers.rssHalf >= 0 ? "+" : ""}${(viewers.rssEnd - viewers.rssHalf).toFixed(0)} MiB)`,
    );
    results.viewers = { ...viewers, load: load() };
  }

  if (want("objects")) {
    // (5) Objects per slide: before, the old job's Deep Zoom pyramid (254 px, overlap 1: one object a tile, plus the .dzi);
    //     after, what the background job leaves beside the source.
    const before = planDeepZoomLevels(FW, FH, 254).reduce((sum, l) => sum + l.cols * l.rows, 0) + 1 + 1;
    if (!want("computed")) await prepareSlideForViewing(handle.db, store, fresh.id);
    const [freshRow] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, fresh.id));
    const jobStarted = performance.now();
    await tileSlide(handle.db, store, fresh.id);
    const jobSeconds = (performance.now() - jobStarted) / 1000;
    const after = [...(await store.list(`pyramid/${fresh.id}/`)), ...(await store.list(`private/${fresh.id}/`))].length + 1;
    const derivedBytes = (await store.head(derivedKeyOf(freshRow!.tilesPrefix!)))?.size ?? 0;
    console.log(
      `objects per slide: before ${before.toLocaleString("en")} (source + .dzi + one per tile), after ${after} (source, derived pyramid ${(derivedBytes / 1e6).toFixed(0)} MB, thumbnail) — background job ${jobSeconds.toFixed(1)} s`,
    );
    results.objects = { before, after, derivedBytes, jobSeconds };
  }
  await writeFile(join(out, "serve-results.json"), JSON.stringify(results, null, 2));
} finally {
  nginx?.kill();
  await service.stop();
  await handle.close();
  await embedded.stop();
  await rm(join(out, "nginx.pid"), { force: true });
}
