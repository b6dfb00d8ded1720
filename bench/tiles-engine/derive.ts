import { open } from "node:fs/promises";
import { openFileSource, openSlide, writeDerivedPyramid } from "@pathx/wsi";
import { parseLevels, withLevels } from "./levels";

// Child process of bench/tiles-engine/run.ts, so its peak RSS is measured alone:
//   tsx derive.ts SLIDE OUT LEVELS QUALITY [once]  → one JSON line on stdout.
// "once": the file's header is patched at the end, so the levels are computed in one pass.
const [path, out, spec = "0", quality = "80", mode = "stream"] = process.argv.slice(2);
if (!path || !out) throw new Error("usage: derive.ts SLIDE OUT [LEVELS] [QUALITY] [once]");
const full = await openSlide(await openFileSource(path));
const slide = withLevels(full, parseLevels(spec, full.metadata.levels.length));
const file = await open(out, "w");
const started = performance.now();
const result = await writeDerivedPyramid(slide, async (chunk) => void (await file.write(chunk)), {
  quality: Number(quality),
  patchHeader: mode === "once" ? async (header) => void (await file.write(header, 0, header.length, 0)) : undefined,
});
await file.close();
const seconds = (performance.now() - started) / 1000;
// Read back: the derived pyramid must open as a slide.
const derived = result.levels ? await openSlide(await openFileSource(out)) : undefined;
console.log(JSON.stringify({ ...result, seconds, derivedLevels: derived?.metadata.levels.length ?? 0 }));
