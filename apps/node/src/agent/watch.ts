import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { NodeConfig } from "./config";
import { pseudonymise } from "./pseudonym";
import { publishSlide } from "./publish";

/** The sidecar `<slide>.json` that says which case a slide in a watched folder belongs to. */
const sidecar = z.object({
  case: z.string().min(1),
  block: z.string().default(""),
  stain: z.string().default(""),
  specimen: z.string().default(""),
  patient: z.string().optional(),
});

const slideFile = /\.(svs|tif|tiff)$/i;

/**
 * One pass over a watched folder: every slide with a sidecar and a settled size (unchanged
 * since the last pass, so a scanner still writing it is left alone) is published once. What
 * was published is remembered in `.pathx-published.json`, so restarts do not repeat work.
 */
export async function scanFolder(
  dir: string,
  config: NodeConfig,
  options: { pseudonymKey?: string; seenSizes: Map<string, number>; log: (line: string) => void },
): Promise<{ published: number; waiting: number; lastError: string | null }> {
  const statePath = join(dir, ".pathx-published.json");
  const published = new Set<string>(JSON.parse(await readFile(statePath, "utf8").catch(() => "[]")) as string[]);
  let count = 0;
  let lastError: string | null = null;
  for (const name of (await readdir(dir)).filter((n) => slideFile.test(n)).sort()) {
    if (published.has(name)) continue;
    const path = join(dir, name);
    const size = (await stat(path)).size;
    const previous = options.seenSizes.get(name);
    options.seenSizes.set(name, size);
    if (previous !== size) continue; // still being written, or first seen: wait one pass
    const metaText = await readFile(`${path.replace(slideFile, "")}.json`, "utf8").catch(() => undefined);
    if (!metaText) {
      options.log(`${name}: waiting for its sidecar ${name.replace(slideFile, "")}.json`);
      continue;
    }
    const parsed = sidecar.safeParse(JSON.parse(metaText));
    if (!parsed.success) {
      lastError = `${name}: sidecar is invalid (${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}); fix it to publish`;
      options.log(lastError);
      continue;
    }
    const meta = parsed.data;
    if (meta.patient && !options.pseudonymKey) {
      lastError = `${name}: has a patient id but PATHX_PSEUDONYM_KEY is not set; not published`;
      options.log(lastError);
      continue;
    }
    try {
      const result = await publishSlide(config, {
        file: path,
        accessionNumber: meta.case,
        block: meta.block,
        stain: meta.stain,
        specimen: meta.specimen,
        patientPseudonym: meta.patient ? pseudonymise(meta.patient, options.pseudonymKey!) : undefined,
      });
      options.log(`${name}: ${result.duplicate ? "already published" : "published"} as slide ${result.slideId}`);
      published.add(name);
      await writeFile(statePath, JSON.stringify([...published]));
      count++;
    } catch (error) {
      lastError = `${name}: ${(error as Error).message}; will retry`;
      options.log(lastError);
    }
  }
  const waiting = (await readdir(dir)).filter((n) => slideFile.test(n) && !published.has(n)).length;
  return { published: count, waiting, lastError };
}
