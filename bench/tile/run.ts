import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createReadStream, existsSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { benchOut, ensureSlide, requireVips, slideSize } from "./make-slide";
import { childrenCpuSeconds, rssOfTree as treeRss } from "../lib/measure";

/**
 * bench/tile: `pathx tile` against `vips dzsave` on one generated large slide, both geometries:
 *   254/1  Deep Zoom default, every tile re-encoded by both tools;
 *   source 256/0, where pathx passes source JPEG tiles through and only builds missing levels.
 * pathx is driven through its command-line contract (`npx pathx tile …`), never the library.
 */

const { values } = parseArgs({
  options: {
    width: { type: "string" },
    height: { type: "string" },
    repeat: { type: "string", default: "1" },
    only: { type: "string" }, // "vips" or "pathx"
    keep: { type: "boolean", default: false },
    timeout: { type: "string", default: "1800" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log("npm run -w bench tile -- [--width N --height N] [--repeat N] [--only vips|pathx] [--keep] [--timeout S]");
  process.exit(0);
}
const repeat = Number(values.repeat);
const timeoutSeconds = Number(values.timeout);
if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`--repeat takes a whole number ≥ 1 (got "${values.repeat}")`);
if (values.only !== undefined && values.only !== "vips" && values.only !== "pathx") throw new Error(`--only is vips or pathx`);

const repoRoot = resolve(fileURLToPath(new URL("../../", import.meta.url)));
const vipsVersion = requireVips(["dzsave"]);
const { width, height } = slideSize(values);
const slide = await ensureSlide(width, height);
const name = basename(slide.path).replace(/\.tiff?$/, "");
const megapixels = (width * height) / 1e6;
const quality = 75;

type Tool = "vips" | "pathx";
interface Case {
  id: string;
  tool: Tool;
  geometry: "254/1" | "source";
  label: string;
  command: string;
  args: (dir: string) => string[];
}
// vips gets an output *basename*: it writes <base>.dzi and <base>_files/, the same names pathx uses.
const vipsArgs = (tile: number, overlap: number) => (dir: string) => [
  "dzsave",
  slide.path,
  join(dir, name),
  "--layout",
  "dz",
  "--tile-size",
  String(tile),
  "--overlap",
  String(overlap),
  "--suffix",
  `.jpg[Q=${quality}]`,
];
// --no-install: if pathx is not in this repo, npx must fail, not fetch an unrelated "pathx" package.
const pathxArgs = (tile: string, overlap: number) => (dir: string) => [
  "--no-install",
  "pathx",
  "tile",
  slide.path,
  "--out",
  dir,
  "--tile-size",
  tile,
  "--overlap",
  String(overlap),
  "--quality",
  String(quality),
  "--format",
  "jpeg",
];
const allCases: Case[] = [
  { id: "a", tool: "vips", geometry: "254/1", label: "vips dzsave 254/1", command: "vips", args: vipsArgs(254, 1) },
  { id: "b", tool: "pathx", geometry: "254/1", label: "pathx tile 254/1", command: "npx", args: pathxArgs("254", 1) },
  { id: "c", tool: "pathx", geometry: "source", label: "pathx tile source/0", command: "npx", args: pathxArgs("source", 0) },
  { id: "d", tool: "vips", geometry: "source", label: "vips dzsave 256/0", command: "vips", args: vipsArgs(256, 0) },
];
const cases = allCases.filter((c) => !values.only || c.tool === values.only);

interface Sample {
  ok: boolean;
  exitCode: number | null;
  seconds: number;
  megapixelsPerSecond: number;
  /** Sum of VmRSS over the process tree, sampled every 50 ms (npx and its node child for pathx). */
  peakRssBytes: number;
  /** user + system CPU of the whole tree: cpuSeconds / seconds ≈ cores kept busy. */
  cpuSeconds: number;
  tiles: number;
  /** pathx's own summary line (its timing excludes npx and node start-up). */
  reported?: string;
  error?: string;
}

// Checked up front: even with --no-install, npx asks the registry about a name it cannot find.
const pathxBin = join(repoRoot, "node_modules", ".bin", "pathx");

async function runOnce(c: Case, dir: string): Promise<Sample> {
  await rm(dir, { recursive: true, force: true });
  if (c.tool === "pathx" && !existsSync(pathxBin)) {
    const error = `pathx is not installed (${pathxBin} missing; run npm ci once apps/node declares the bin)`;
    return { ok: false, exitCode: null, seconds: 0, megapixelsPerSecond: 0, peakRssBytes: 0, cpuSeconds: 0, tiles: 0, error };
  }
  await mkdir(dir, { recursive: true }); // dzsave creates <base>_files but not the folder above it
  const cpuBefore = await childrenCpuSeconds();
  const started = performance.now();
  // Own process group, so a timeout or Ctrl-C ends the tool and its children, nothing else.
  const child = spawn(c.command, c.args(dir), { cwd: repoRoot, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const stopChild = () => child.pid && process.kill(-child.pid, "SIGKILL");
  process.once("SIGINT", stopChild);
  let peakRssBytes = 0;
  let sampling = false;
  const timer = setInterval(() => {
    if (sampling || !child.pid) return;
    sampling = true;
    void treeRss(child.pid).then((rss) => {
      peakRssBytes = Math.max(peakRssBytes, rss);
      sampling = false;
    });
  }, 50);
  let timedOut = false;
  const deadline = setTimeout(() => {
    timedOut = true;
    stopChild();
  }, timeoutSeconds * 1000);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  // Keep only the tail: progress lines can be long.
  child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  const { code, spawnError } = await new Promise<{ code: number | null; spawnError?: Error }>((done) => {
    child.on("error", (error) => done({ code: null, spawnError: error }));
    child.on("close", (exit) => done({ code: exit }));
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  clearTimeout(deadline);
  process.removeListener("SIGINT", stopChild);
  const cpuSeconds = (await childrenCpuSeconds()) - cpuBefore;
  const ok = code === 0 && !timedOut && !spawnError;
  const tiles = ok ? (await levelTiles(dir)).reduce((sum, n) => sum + n, 0) : 0;
  const reported = c.tool === "pathx" ? stdout.trim().split("\n").filter(Boolean).at(-1) : undefined;
  const lastStderr = stderr.replace(/\r/g, "\n").trim().split("\n").filter(Boolean).slice(-3).join(" | ");
  const error = ok
    ? undefined
    : spawnError
      ? `${c.command}: ${spawnError.message}`
      : timedOut
        ? `timed out after ${timeoutSeconds} s`
        : `exit ${code}: ${lastStderr || stdout.trim() || "(no output)"}`;
  return { ok, exitCode: code, seconds, megapixelsPerSecond: megapixels / seconds, peakRssBytes, cpuSeconds, tiles, reported, error };
}

/** Tile files per level (index = level); skips vips-properties.xml and other non-tile files. */
async function levelTiles(dir: string): Promise<number[]> {
  const files = join(dir, `${name}_files`);
  const levels = (await readdir(files).catch(() => [] as string[])).filter((entry) => /^\d+$/.test(entry));
  const counts: number[] = [];
  for (const level of levels) {
    counts[Number(level)] = (await readdir(join(files, level))).filter((f) => /\.(jpe?g|png|webp)$/i.test(f)).length;
  }
  return Array.from(counts, (n) => n ?? 0);
}

async function tileExtension(dir: string): Promise<string | undefined> {
  const level0 = await readdir(join(dir, `${name}_files`, "0")).catch(() => [] as string[]);
  return level0.map((f) => /\.([a-z]+)$/i.exec(f)?.[1]).find(Boolean);
}

interface Dzi {
  Format?: string;
  Overlap?: string;
  TileSize?: string;
  Width?: string;
  Height?: string;
}
async function readDzi(dir: string): Promise<Dzi | undefined> {
  const xml = await readFile(join(dir, `${name}.dzi`), "utf8").catch(() => undefined);
  if (xml === undefined) return undefined;
  const attribute = (key: string) => new RegExp(`\\b${key}\\s*=\\s*"([^"]*)"`).exec(xml)?.[1];
  return {
    Format: attribute("Format"),
    Overlap: attribute("Overlap"),
    TileSize: attribute("TileSize"),
    Width: attribute("Width"),
    Height: attribute("Height"),
  };
}

/** pathx output against vips output of the same geometry: .dzi fields, level count, tiles per level. */
async function compareOutputs(pathxDir: string, vipsDir: string, notes: string[]): Promise<string[]> {
  const problems: string[] = [];
  const [p, v] = [await readDzi(pathxDir), await readDzi(vipsDir)];
  if (!p || !v) return [`missing .dzi (pathx ${p ? "ok" : "missing"}, vips ${v ? "ok" : "missing"})`];
  for (const key of ["Width", "Height", "TileSize", "Overlap", "Format"] as const) {
    if (p[key] === v[key]) continue;
    // "jpg" and "jpeg" are the same format; only the file extension differs (checked below).
    const sameJpeg = key === "Format" && /^jpe?g$/.test(p[key] ?? "") && /^jpe?g$/.test(v[key] ?? "");
    if (sameJpeg) notes.push(`.dzi Format: pathx "${p[key]}", vips "${v[key]}" (same codec, different tile file extension)`);
    else problems.push(`.dzi ${key}: pathx "${p[key]}" vs vips "${v[key]}"`);
  }
  // Viewers build tile URLs from Format, so it must also be each tree's real file extension.
  for (const [tool, dir, dzi] of [
    ["pathx", pathxDir, p],
    ["vips", vipsDir, v],
  ] as const) {
    const extension = await tileExtension(dir);
    if (extension !== dzi.Format) problems.push(`${tool}: .dzi Format "${dzi.Format}" but tiles are named *.${extension ?? "?"}`);
  }
  const [pl, vl] = [await levelTiles(pathxDir), await levelTiles(vipsDir)];
  if (pl.length !== vl.length) problems.push(`levels: pathx ${pl.length} vs vips ${vl.length}`);
  for (let level = 0; level < Math.max(pl.length, vl.length); level++) {
    if (pl[level] !== vl[level]) problems.push(`level ${level} tiles: pathx ${pl[level] ?? "none"} vs vips ${vl[level] ?? "none"}`);
  }
  return problems;
}

// Warm the page cache so the first tool does not pay for reading the slide from disk.
await new Promise<void>((done, fail) =>
  createReadStream(slide.path)
    .on("data", () => {})
    .on("end", done)
    .on("error", fail),
);

const runRoot = join(benchOut, "tile-runs");
const samples = new Map<string, Sample[]>(cases.map((c) => [c.id, []]));
console.log(
  `slide ${slide.path}\n  ${width} × ${height} = ${megapixels.toFixed(0)} MP, ${(slide.bytes / 2 ** 20).toFixed(0)} MiB, ` +
    `${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}, ${vipsVersion}, JPEG Q${quality}, repeat ${repeat}\n`,
);
for (let round = 1; round <= repeat; round++) {
  for (const c of cases) {
    process.stdout.write(`(${c.id}) ${c.label.padEnd(22)} round ${round}/${repeat} … `);
    const sample = await runOnce(c, join(runRoot, c.id));
    samples.get(c.id)!.push(sample);
    console.log(sample.ok ? `${sample.seconds.toFixed(1)} s` : `FAILED: ${sample.error}`);
  }
}

/** Median of the successful runs (by time), or the last failure if none succeeded. */
function representative(list: Sample[]): Sample | undefined {
  const ok = list.filter((s) => s.ok).sort((x, y) => x.seconds - y.seconds);
  return ok[Math.floor((ok.length - 1) / 2)] ?? list.at(-1); // lower median: the faster of two
}
const best = new Map(cases.map((c) => [c.id, representative(samples.get(c.id)!)]));

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const rows = cases.map((c) => {
  const s = best.get(c.id);
  if (!s?.ok) return [c.id, c.label, "failed", "", "", "", "", ""];
  return [
    c.id,
    c.label,
    s.seconds.toFixed(1),
    s.megapixelsPerSecond.toFixed(1),
    String(s.tiles),
    mib(s.peakRssBytes),
    s.cpuSeconds.toFixed(1),
    (s.cpuSeconds / s.seconds).toFixed(2),
  ];
});
const header = ["", "tool", "wall s", "MP/s", "tiles", "peak RSS", "CPU s", "cores"];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
console.log(`\n${header.map((h, i) => (i < 2 ? h.padEnd(widths[i]!) : h.padStart(widths[i]!))).join("  ")}`);
for (const r of rows) console.log(r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
for (const c of cases) {
  const s = best.get(c.id);
  if (s?.ok && s.reported) console.log(`(${c.id}) pathx says: ${s.reported}`);
  if (s && !s.ok) console.log(`(${c.id}) ${c.label} failed: ${s.error}`);
}

const ratios: Record<string, { speed: number; peakRss: number } | null> = {};
const checks: Record<string, { mismatches: string[]; notes: string[] } | null> = {};
for (const [geometry, pathxId, vipsId] of [
  ["254/1", "b", "a"],
  ["source", "c", "d"],
] as const) {
  const [p, v] = [best.get(pathxId), best.get(vipsId)];
  const title = geometry === "254/1" ? "254/1" : "source (pathx source/0 vs vips 256/0)";
  if (!p?.ok || !v?.ok) {
    ratios[geometry] = null;
    checks[geometry] = null;
    const why = !p ? "pathx not run" : !p.ok ? "pathx failed" : !v ? "vips not run" : "vips failed";
    if (!values.only) console.log(`\n${title}: no ratio (${why})`);
    continue;
  }
  ratios[geometry] = { speed: p.megapixelsPerSecond / v.megapixelsPerSecond, peakRss: p.peakRssBytes / v.peakRssBytes };
  const notes: string[] = [];
  const mismatches = await compareOutputs(join(runRoot, pathxId), join(runRoot, vipsId), notes);
  checks[geometry] = { mismatches, notes };
  console.log(`\n${title}: pathx/vips speed ${ratios[geometry].speed.toFixed(2)}× (>1: pathx faster), peak RSS ${ratios[geometry].peakRss.toFixed(2)}×`);
  console.log(mismatches.length === 0 ? "  check: .dzi fields, levels and tiles per level match" : mismatches.map((m) => `  MISMATCH ${m}`).join("\n"));
  for (const note of notes) console.log(`  note: ${note}`);
}

const resultsPath = join(benchOut, "tile-results.json");
await writeFile(
  resultsPath,
  `${JSON.stringify(
    {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, loadAverageAtEnd: loadavg()[0], node: process.version, vips: vipsVersion },
      slide: { path: slide.path, width, height, megapixels, bytes: slide.bytes, tile: 256, compression: "jpeg Q85", generatedSeconds: slide.generatedIn },
      quality,
      repeat,
      cases: cases.map((c) => ({
        id: c.id,
        label: c.label,
        tool: c.tool,
        geometry: c.geometry,
        command: [c.command, ...c.args(join(runRoot, c.id))].join(" "),
        median: best.get(c.id),
        samples: samples.get(c.id),
      })),
      ratiosPathxOverVips: ratios,
      checks,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nresults: ${resultsPath}`);
if (values.keep) console.log(`outputs kept in ${runRoot}`);
else await rm(runRoot, { recursive: true, force: true }); // ~20 000 files per case
