import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { openFileSource, openSlide, writeDerivedPyramid } from "@pathx/wsi";
import { parseLevels, withLevels } from "./levels";

// Child process of bench/tiles-engine/run.ts, so its peak RSS is measured alone:
//   tsx derive.ts SLIDE OUT LEVELS QUALITY   → one JSON line on stdout.
const [path, out, spec = "0", quality = "80"] = process.argv.slice(2);
if (!path || !out) throw new Error("usage: derive.ts SLIDE OUT [LEVELS] [QUALITY]");
const full = await openSlide(await openFileSource(path));
const slide = withLevels(full, parseLevels(spec, full.metadata.levels.length));
const file = createWriteStream(out);
const started = performance.now();
const result = await writeDerivedPyramid(
  slide,
  async (chunk) => {
    if (!file.write(chunk)) await once(file, "drain");
  },
  { quality: Number(quality) },
);
file.end();
await once(file, "finish");
const seconds = (performance.now() - started) / 1000;
// Read back: the derived pyramid must open as a slide.
const derived = result.levels ? await openSlide(await openFileSource(out)) : undefined;
console.log(JSON.stringify({ ...result, seconds, derivedLevels: derived?.metadata.levels.length ?? 0 }));
