import { mkdir, readdir, rm, stat, writeFile } from "node:fs/promises";
import { loadavg } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type DeepZoomView, createTileCache, openDeepZoomView, openFileSource, openSlide } from "@pathx/wsi";
import { fixturePath } from "@pathx/wsi/test-support";
import { benchOut, ensureSlide, requireVips, slideSize } from "../tile/make-slide";
import { childrenCpuSeconds, formatGiB, runMeasured } from "../lib/measure";
import { withLevels } from "./levels";

/**
 * bench/tiles-engine: the on-demand Deep Zoom engine of @pathx/wsi on one generated large slide.
 *   serving (in this process): passthrough tiles/s; computed tiles/s with a cold cache;
 *   derived pyramid (child processes, one at a time): writeDerivedPyramid against `vips dzsave`
 *   on the same slide: MP/s and peak RSS, with their ratios.
 */
const { values } = parseArgs({
  options: {
    width: { type: "string" },
    height: { type: "string" },
    concurrency: { type: "string", default: "64" },
    requests: { type: "string", default: "20000" },
    computed: { type: "string", default: "2000" },
    quality: { type: "string", default: "80" },
    part: { type: "string", default: "all" }, // serving, derived or all
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(
    "npm run -w bench tiles-engine -- [--width N --height N] [--concurrency 64] [--requests 20000] [--computed 2000] [--quality 80] [--part serving|derived|all]",
  );
  process.exit(0);
}
const concurrency = Number(values.concurrency);
if (!["serving", "derived", "all"].includes(values.part)) throw new Error(`--part is serving, derived or all (got "${values.part}")`);
const quality = Number(values.quality);
const repoRoot = resolve(fileURLToPath(new URL("../../", import.meta.url)));
const vipsVersion = requireVips(["dzsave"]);
const { width, height } = slideSize(values);
const slideInfo = await ensureSlide(width, height);
const megapixels = (width * height) / 1e6;
const load = loadavg()
  .map((n) => n.toFixed(1))
  .join(" ");
console.log(
  `slide ${slideInfo.path}: ${width} × ${height} (${megapixels.toFixed(0)} MP), ${vipsVersion}, load ${load}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? "4 (default)"}`,
);

/** Runs `fn` over every address with `concurrency` requests in flight; tiles per second. */
async function drive(addresses: [number, number, number][], view: DeepZoomView, expectPassthrough: boolean) {
  let next = 0;
  let wrongKind = 0;
  let bytes = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < addresses.length) {
        const [level, col, row] = addresses[next++]!;
        const tile = await view.getTile(level, col, row);
        if (tile.passthrough !== expectPassthrough) wrongKind++;
        bytes += tile.bytes.length;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  // CPU of the whole process (JavaScript thread and libuv pool): what a tile costs whatever else runs.
  const cpuMsPerTile = (used.user + used.system) / 1000 / addresses.length;
  if (wrongKind) throw new Error(`${wrongKind} tiles were ${expectPassthrough ? "computed" : "passed through"}, not what this case measures`);
  return { tiles: addresses.length, seconds, tilesPerSecond: addresses.length / seconds, cpuMsPerTile, meanBytes: Math.round(bytes / addresses.length) };
}

/** Deterministic shuffle (LCG): the same request order on every run. */
function shuffle<T>(items: T[]): T[] {
  let seed = 12345;
  for (let i = items.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const j = seed % (i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function interiorTiles(view: DeepZoomView, level: number): [number, number, number][] {
  const scale = 2 ** (view.maxLevel - level);
  const cols = Math.floor(Math.ceil(view.width / scale) / view.tileSize);
  const rows = Math.floor(Math.ceil(view.height / scale) / view.tileSize);
  return Array.from({ length: cols * rows }, (_, i) => [level, i % cols, Math.floor(i / cols)] as [number, number, number]);
}

type Rate = Awaited<ReturnType<typeof drive>>;
const serving: Record<string, Rate> = {};
const derived: Record<string, unknown>[] = [];
if (values.part !== "derived") await measureServing();
if (values.part !== "serving") await measureDerived();
await writeFile(
  join(benchOut, "tiles-engine-results.json"),
  JSON.stringify({ slide: slideInfo, load, vipsVersion, concurrency, quality, serving, derived }, null, 2),
);

async function measureServing() {
  const full = await openSlide(await openFileSource(slideInfo.path));
  // Passthrough: the slide as stored (a 256 px pyramid), interior tiles of its three largest levels.
  {
    const view = openDeepZoomView(full, { cache: createTileCache({ maxBytes: 256 * 2 ** 20 }), quality });
    const pool = [view.maxLevel, view.maxLevel - 1, view.maxLevel - 2].flatMap((level) => interiorTiles(view, level));
    const addresses = shuffle(Array.from({ length: Number(values.requests) }, (_, i) => pool[(i * 7919) % pool.length]!));
    await drive(addresses.slice(0, 2000), view, true); // warm the file's tile tables and the page cache
    serving.passthrough = await drive(addresses, view, true);
  }
  // Computed, cold cache: the slide seen with level 0 only, so each tile one level down is four
  // source tiles decoded, halved and encoded; two levels down, sixteen (through the level between).
  const oneLevel = withLevels(full, [0]);
  for (const [name, down] of [
    ["computed1", 1],
    ["computed2", 2],
  ] as const) {
    const view = openDeepZoomView(oneLevel, { cache: createTileCache({ maxBytes: 512 * 2 ** 20 }), quality });
    const addresses = shuffle(interiorTiles(view, view.maxLevel - down)).slice(0, Number(values.computed));
    serving[name] = await drive(addresses, view, false);
  }
  await full.close();

  // Edge tiles: a real Aperio slide (240 px tiles, 2220 × 2967), whose right column and bottom
  // row are stored padded and served cropped: decode, crop, encode (the libjpeg-turbo binding
  // exposes no lossless transform). A fresh cache each round, so every tile is computed.
  const cmu = await openSlide(await openFileSource(fixturePath("CMU-1-Small-Region.svs")));
  const probe = openDeepZoomView(cmu);
  const cols = Math.ceil(cmu.metadata.width / probe.tileSize);
  const rows = Math.ceil(cmu.metadata.height / probe.tileSize);
  const edges: [number, number, number][] = [];
  for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) if (col === cols - 1 || row === rows - 1) edges.push([probe.maxLevel, col, row]);
  const rounds: Rate[] = [];
  for (let round = 0; round < 50; round++)
    rounds.push(await drive(edges, openDeepZoomView(cmu, { cache: createTileCache({ maxBytes: 64 * 2 ** 20 }), quality }), false));
  const tiles = rounds.reduce((n, r) => n + r.tiles, 0);
  const seconds = rounds.reduce((n, r) => n + r.seconds, 0);
  const cpuMs = rounds.reduce((n, r) => n + r.cpuMsPerTile * r.tiles, 0);
  serving.edge = { tiles, seconds, tilesPerSecond: tiles / seconds, cpuMsPerTile: cpuMs / tiles, meanBytes: rounds[0]!.meanBytes };
  await cmu.close();

  const formatResult = (name: string, r: Rate) =>
    `  ${name.padEnd(46)} ${r.tilesPerSecond.toFixed(0).padStart(7)} tiles/s  ${r.cpuMsPerTile.toFixed(3)} CPU ms/tile (= ${(2000 / r.cpuMsPerTile).toFixed(0)} tiles/s on 2 free cores)  (${r.tiles} tiles in ${r.seconds.toFixed(2)} s, ${(r.meanBytes / 1024).toFixed(1)} KiB each)`;
  console.log(`\nserving, ${concurrency} requests in flight, quality ${quality}:`);
  console.log(formatResult("passthrough (stored JPEG tiles)", serving.passthrough));
  console.log(formatResult("computed, cold cache, 1 level below the source", serving.computed1!));
  console.log(formatResult("computed, cold cache, 2 levels below the source", serving.computed2!));
  console.log(formatResult("edge tiles cropped (CMU-1-Small-Region.svs)", serving.edge));
}

/** The derived pyramid against vips dzsave, one process at a time, same slide (dzsave reads page 0 and shrinks it itself). */
async function measureDerived() {
  const work = join(benchOut, "tiles-engine");
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const tsx = join(repoRoot, "node_modules", ".bin", "tsx");
  const derive = fileURLToPath(new URL("./derive.ts", import.meta.url));
  const cases = [
    { label: "writeDerivedPyramid, one-level slide", command: tsx, args: [derive, slideInfo.path, join(work, "one.tif"), "0", String(quality)] },
    { label: "  the same, one pass (header patched)", command: tsx, args: [derive, slideInfo.path, join(work, "once.tif"), "0", String(quality), "once"] },
    {
      label: "writeDerivedPyramid, Aperio-like (1, 4, 16…)",
      command: tsx,
      args: [derive, slideInfo.path, join(work, "aperio.tif"), "0,2,4,6,8", String(quality)],
    },
    {
      label: "vips dzsave 256/0 (every tile)",
      command: "vips",
      args: ["dzsave", slideInfo.path, join(work, "vips"), "--layout", "dz", "--tile-size", "256", "--overlap", "0", "--suffix", `.jpg[Q=${quality}]`],
    },
  ];
  console.log(`\nderived pyramid (${megapixels.toFixed(0)} MP slide; MP/s = level-0 MP / wall s):`);
  for (const c of cases) {
    const cpuBefore = await childrenCpuSeconds();
    const run = await runMeasured(c.command, c.args, { cwd: repoRoot });
    const cpuSeconds = (await childrenCpuSeconds()) - cpuBefore;
    if (run.code !== 0) throw new Error(`${c.label} failed: ${run.stderr.slice(-2000)}`);
    const reported = c.command === tsx ? (JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { bytes: number; tiles: number; levels: number }) : undefined;
    const objects = reported ? 1 : await countFiles(join(work, "vips_files"));
    const bytes = reported ? reported.bytes : await folderBytes(join(work, "vips_files"));
    const row = {
      label: c.label,
      seconds: run.seconds,
      cpuSeconds,
      megapixelsPerSecond: megapixels / run.seconds,
      peakRssBytes: run.peakRssBytes,
      objects,
      bytes,
      tiles: reported?.tiles ?? objects,
      levels: reported?.levels,
    };
    derived.push(row);
    console.log(
      `  ${c.label.padEnd(46)} ${row.seconds.toFixed(1).padStart(6)} s ${row.megapixelsPerSecond.toFixed(1).padStart(6)} MP/s  CPU ${cpuSeconds.toFixed(1)} s  peak RSS ${formatGiB(row.peakRssBytes)}  ${row.tiles} tiles in ${objects} object${objects === 1 ? "" : "s"}, ${(bytes / 2 ** 20).toFixed(0)} MiB`,
    );
  }
  const [one, once, , vips] = derived as { megapixelsPerSecond: number; peakRssBytes: number; cpuSeconds: number }[];
  console.log(
    `  one-level derived / vips dzsave: speed ${(one!.megapixelsPerSecond / vips!.megapixelsPerSecond).toFixed(2)}× (wall), ` +
      `${(vips!.cpuSeconds / one!.cpuSeconds).toFixed(2)}× (CPU), peak RSS ${(one!.peakRssBytes / vips!.peakRssBytes).toFixed(2)}×`,
  );
  console.log(
    `  one pass / vips dzsave: speed ${(once!.megapixelsPerSecond / vips!.megapixelsPerSecond).toFixed(2)}× (wall), ` +
      `${(vips!.cpuSeconds / once!.cpuSeconds).toFixed(2)}× (CPU), peak RSS ${(once!.peakRssBytes / vips!.peakRssBytes).toFixed(2)}×`,
  );
  await rm(work, { recursive: true, force: true });
}

/** Tile files of a dzsave tree: `<level>/<col>_<row>.jpg` (vips-properties.xml left out). */
async function tileFiles(dir: string): Promise<string[]> {
  const levels = (await readdir(dir)).filter((entry) => /^\d+$/.test(entry));
  return (await Promise.all(levels.map(async (level) => (await readdir(join(dir, level))).map((f) => join(dir, level, f))))).flat();
}
async function countFiles(dir: string): Promise<number> {
  return (await tileFiles(dir)).length;
}
async function folderBytes(dir: string): Promise<number> {
  let n = 0;
  for (const file of await tileFiles(dir)) n += (await stat(file)).size;
  return n;
}
