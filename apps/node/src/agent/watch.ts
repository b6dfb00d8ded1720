import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { NodeConfig } from "./config";
import { buildIndexRecord, registerIndexRecords } from "./index-record";
import { publishSlide } from "./publish";
import { SLIDE_FILE, readSidecar, sidecarPathOf } from "./sidecar";

/**
 * One pass over a watched folder: every slide with a sidecar and a settled size (unchanged
 * since the last pass, so a scanner still writing it is left alone) is published once — or,
 * with `indexKey`, registered index-only (metadata and thumbnail; the file is sent when the
 * hub orders it). What was done is remembered in `.pathx-published.json`, so restarts do not
 * repeat work.
 */
export async function scanFolder(
  dir: string,
  config: NodeConfig,
  options: { pseudonymKey?: string; seenSizes: Map<string, number>; log: (line: string) => void; indexKey?: Buffer },
): Promise<{ published: number; waiting: number; lastError: string | null }> {
  const statePath = join(dir, ".pathx-published.json");
  const published = new Set<string>(JSON.parse(await readFile(statePath, "utf8").catch(() => "[]")) as string[]);
  let count = 0;
  let lastError: string | null = null;
  for (const name of (await readdir(dir)).filter((n) => SLIDE_FILE.test(n)).sort()) {
    if (published.has(name)) continue;
    const path = join(dir, name);
    const size = (await stat(path)).size;
    const previous = options.seenSizes.get(name);
    options.seenSizes.set(name, size);
    if (previous !== size) continue; // still being written, or first seen: wait one pass
    const sidecar = await readSidecar(path, options.pseudonymKey);
    if (sidecar.kind === "missing") {
      options.log(`${name}: waiting for its sidecar ${sidecarPathOf(name)}`);
      continue;
    }
    if (sidecar.kind === "invalid") {
      lastError = `${name}: ${sidecar.reason}; fix it to publish`;
      options.log(lastError);
      continue;
    }
    try {
      if (options.indexKey) {
        const answer = await registerIndexRecords(config, [await buildIndexRecord(options.indexKey, path, sidecar.meta)]);
        if (answer.rejected.length) throw new Error(answer.rejected[0]!.reason);
        options.log(`${name}: ${answer.registered ? "registered index-only" : "already registered"}`);
      } else {
        const result = await publishSlide(config, { file: path, ...sidecar.meta });
        options.log(`${name}: ${result.duplicate ? "already published" : "published"} as slide ${result.slideId}`);
      }
      published.add(name);
      await writeFile(statePath, JSON.stringify([...published]));
      count++;
    } catch (error) {
      lastError = `${name}: ${(error as Error).message}; will retry`;
      options.log(lastError);
    }
  }
  const waiting = (await readdir(dir)).filter((n) => SLIDE_FILE.test(n) && !published.has(n)).length;
  return { published: count, waiting, lastError };
}
