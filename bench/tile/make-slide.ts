import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/**
 * Generates the tile benchmark's slide with the libvips command line: a JPEG (Q85) tiled
 * BigTIFF pyramid, 256 px tiles, with H&E-like content (pink stroma, purple nuclei, white gaps)
 * so the JPEG codec does real work. Cached under bench/out/, generated once per size.
 *
 * The vips CLI runs one operation per call, so every step materialises a file. To stay fast
 * on 2 cores the structure is built at 1/4 scale (cheap), upscaled once, and full-resolution
 * noise is added in the last call, which writes the pyramid directly.
 */

export interface SlideInfo {
  path: string;
  width: number;
  height: number;
  bytes: number;
  /** Seconds spent generating, or undefined when the cached file was used. */
  generatedIn?: number;
}

export const benchOut = resolve(fileURLToPath(new URL("../out/", import.meta.url)));
export const defaultWidth = 32_768;
export const defaultHeight = 30_720;
/** Structure is drawn at 1/scale and upscaled: 16× fewer pixels for perlin/worley/colour mapping. */
const scale = 4;

/** Exits with a clear message when the vips command line (or an operation we need) is missing. */
export function requireVips(operations: string[] = []): string {
  const version = spawnSync("vips", ["--version"], { encoding: "utf8" });
  if (version.error || version.status !== 0) {
    console.error(
      "bench/tile needs the libvips command line `vips`, which was not found on PATH.\n" +
        "  Debian/Ubuntu: apt-get install libvips-tools    macOS: brew install vips",
    );
    process.exit(1);
  }
  if (operations.length > 0) {
    const list = spawnSync("vips", ["-l"], { encoding: "utf8", maxBuffer: 16 * 2 ** 20 }).stdout;
    const missing = operations.filter((op) => !list.includes(`(${op})`));
    if (missing.length > 0) {
      console.error(`${version.stdout.trim()} lacks operation(s) ${missing.join(", ")}; libvips 8.8 or newer is needed.`);
      process.exit(1);
    }
  }
  return version.stdout.trim();
}

function vips(args: string[]): void {
  const result = spawnSync("vips", args, { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  if (result.error || result.status !== 0) {
    throw new Error(`vips ${args.join(" ")} failed: ${result.error?.message ?? result.stderr.trim()}`);
  }
}

export function slidePath(width: number, height: number): string {
  return join(benchOut, `tile-slide-${width}x${height}.tif`);
}

/** Returns the cached slide, generating it first if needed (or when force is set). */
export async function ensureSlide(width: number, height: number, options: { force?: boolean; log?: (line: string) => void } = {}): Promise<SlideInfo> {
  const log = options.log ?? ((line: string) => console.log(line));
  const path = slidePath(width, height);
  if (existsSync(path) && !options.force) return { path, width, height, bytes: (await stat(path)).size };

  requireVips(["perlin", "worley", "gaussnoise", "affine", "ifthenelse", "embed", "tiffsave"]);
  if (width < 1024 || height < 1024) throw new Error("the slide must be at least 1024 × 1024");
  // Intermediates are a few GB of uncompressed .v files next to the output (same disk, no /tmp limits).
  const work = `${path}.work`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const f = (name: string) => join(work, `${name}.v`);
  const w = String(Math.ceil(width / scale));
  const h = String(Math.ceil(height / scale));
  const started = performance.now();
  const step = (label: string, args: string[]) => {
    const t = performance.now();
    vips(args);
    log(`  ${label.padEnd(34)} ${((performance.now() - t) / 1000).toFixed(1).padStart(5)} s`);
  };
  log(`generating ${path} (${width} × ${height}, structure at 1/${scale} scale)…`);
  try {
    // Perlin/worley fields at 1/4 scale; cell sizes are in low-res pixels (×4 at full res).
    step("tissue outline (perlin 1024)", ["perlin", f("coarse"), w, h, "--cell-size", "1024", "--seed", "1"]);
    step("stroma texture (perlin 16)", ["perlin", f("fine"), w, h, "--cell-size", "16", "--seed", "2"]);
    step("nuclei (worley 24)", ["worley", f("cells"), w, h, "--cell-size", "24", "--seed", "3"]);
    step("nuclei density (perlin 160)", ["perlin", f("density"), w, h, "--cell-size", "160", "--seed", "4"]);
    // A nucleus is where the distance to the nearest worley point is below a radius that
    // varies across the slide (clusters and sparse areas); soft 0-255 edges for blending.
    step("nucleus radius", ["linear", f("density"), f("radius"), "3.0", "2.5"]);
    step("nucleus edge", ["subtract", f("radius"), f("cells"), f("inside")]);
    step("nucleus alpha", ["linear", f("inside"), f("nucleus-alpha"), "120", "128", "--uchar"]);
    // Steep ramp on the coarse field: about half the slide becomes white background.
    step("tissue alpha", ["linear", f("coarse"), f("tissue-alpha"), "2000", "168", "--uchar"]);
    // linear with 3 constants on a 1-band image gives 3 bands: colour mapping in one call.
    step("background colour", ["linear", f("fine"), f("background"), "2 2 2", "241 239 243", "--uchar"]);
    step("eosin stroma colour", ["linear", f("fine"), f("stroma"), "30 45 28", "222 148 192", "--uchar"]);
    step("haematoxylin nucleus colour", ["linear", f("cells"), f("nucleus"), "8 7 5", "70 44 126", "--uchar"]);
    step("nuclei over stroma", ["ifthenelse", f("nucleus-alpha"), f("nucleus"), f("stroma"), f("tissue"), "--blend"]);
    step("tissue over background", ["ifthenelse", f("tissue-alpha"), f("tissue"), f("background"), f("low-multiband"), "--blend"]);
    // Without sRGB interpretation tiffsave rescales the non-uchar sum below (all-white slide).
    step("tag as sRGB", ["copy", f("low-multiband"), f("low"), "--interpretation", "srgb"]);
    // --oarea gives exactly width × height whatever the rounding of the 1/4 image.
    step("upscale ×4 (bilinear)", ["affine", f("low"), f("up"), `${scale} 0 0 ${scale}`, "--oarea", `0 0 ${width} ${height}`]);
    // A 1000 px noise tile repeated to full size: cheap, and not aligned with the 256 px tiles.
    step("noise tile (gaussnoise σ5)", ["gaussnoise", f("noise-tile-float"), "1000", "1000", "--sigma", "5", "--mean", "0", "--seed", "5"]);
    step("noise tile to char", ["cast", f("noise-tile-float"), f("noise-tile"), "char"]);
    step("noise to full size", ["embed", f("noise-tile"), f("noise"), "0", "0", String(width), String(height), "--extend", "repeat"]);
    // Last call adds the noise and saves: same as `vips tiffsave --tile --pyramid --compression
    // jpeg --Q 85 --bigtiff --tile-width 256 --tile-height 256`, without another 3 GB file.
    const partial = join(work, "slide.tif");
    step("add noise + tiffsave pyramid Q85", [
      "add",
      f("up"),
      f("noise"),
      `${partial}[tile,pyramid,compression=jpeg,Q=85,bigtiff,tile-width=256,tile-height=256]`,
    ]);
    await rename(partial, path);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const generatedIn = (performance.now() - started) / 1000;
  const bytes = (await stat(path)).size;
  log(`generated ${path}: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${generatedIn.toFixed(1)} s`);
  return { path, width, height, bytes, generatedIn };
}

/** Size from --width/--height, else TILE_BENCH_WIDTH/TILE_BENCH_HEIGHT, else the default. */
export function slideSize(values: { width?: string; height?: string }): { width: number; height: number } {
  const pick = (flag: string | undefined, env: string | undefined, fallback: number, name: string) => {
    const raw = flag ?? env;
    if (raw === undefined || raw === "") return fallback;
    if (!/^\d+$/.test(raw)) throw new Error(`${name} must be a whole number of pixels (got "${raw}")`);
    return Number(raw);
  };
  return {
    width: pick(values.width, process.env.TILE_BENCH_WIDTH, defaultWidth, "width"),
    height: pick(values.height, process.env.TILE_BENCH_HEIGHT, defaultHeight, "height"),
  };
}

// Standalone: `npx tsx bench/tile/make-slide.ts [--width N --height N] [--force]`.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: { width: { type: "string" }, height: { type: "string" }, force: { type: "boolean", default: false } },
  });
  const { width, height } = slideSize(values);
  const slide = await ensureSlide(width, height, { force: values.force });
  if (slide.generatedIn === undefined) console.log(`cached: ${slide.path} (${(slide.bytes / 2 ** 20).toFixed(0)} MiB); --force regenerates`);
}
