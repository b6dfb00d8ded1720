import { createHash } from "node:crypto";
import { opendir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { NodeConfig } from "./config";
import { type IndexRecord, buildIndexRecord, registerIndexRecords } from "./index-record";
import { SLIDE_FILE, readSidecar } from "./sidecar";

export interface BacklogReport {
  found: number;
  registered: number;
  alreadyKnown: number;
  skippedBefore: number;
  problems: number;
  seconds: number;
}

/** Slide files under `dir`, depth first, each folder's entries sorted: an order that survives restarts. */
async function* walkSlides(dir: string): AsyncGenerator<string> {
  const entries: { name: string; isDir: boolean }[] = [];
  for await (const entry of await opendir(dir)) {
    if (entry.name.startsWith(".")) continue;
    entries.push({ name: entry.name, isDir: entry.isDirectory() });
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDir) yield* walkSlides(path);
    else if (SLIDE_FILE.test(entry.name)) yield path;
  }
}

/** Compares two paths in walk order (segment by segment). */
function compareWalkOrder(a: string, b: string): number {
  const x = a.split(sep);
  const y = b.split(sep);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

async function mapLimited<T, R>(items: T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await run(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * Registers an existing archive index-only, in batches: each slide's metadata, case from its
 * sidecar (patient id pseudonymised here) and a thumbnail; the pixels stay until the hub asks.
 * While one batch is on its way to the hub the next is read. After each batch the last slide
 * done is saved next to the node's config, so a stopped run continues where it was; the hub
 * ignores a slide it already has, so overlapping runs do no harm.
 */
export async function registerBacklog(
  dir: string,
  config: NodeConfig,
  options: {
    indexKey: Buffer;
    configPath: string;
    pseudonymKey?: string;
    batchSize?: number;
    concurrency?: number;
    restart?: boolean;
    log: (line: string) => void;
    progress: (report: BacklogReport) => void;
  },
): Promise<BacklogReport> {
  const root = resolve(dir);
  const statePath = join(dirname(options.configPath), `backlog-${createHash("sha256").update(root).digest("hex").slice(0, 16)}.json`);
  const resumeAfter = options.restart ? undefined : ((JSON.parse(await readFile(statePath, "utf8").catch(() => "{}")) as { lastPath?: string }).lastPath ?? undefined);
  if (resumeAfter) options.log(`continuing after ${resumeAfter} (from ${statePath}; --restart to start over)`);
  const batchSize = options.batchSize ?? 500;
  const started = performance.now();
  const report: BacklogReport = { found: 0, registered: 0, alreadyKnown: 0, skippedBefore: 0, problems: 0, seconds: 0 };

  const build = (paths: string[]) =>
    mapLimited(paths, options.concurrency ?? 8, async (path): Promise<IndexRecord | undefined> => {
      try {
        const sidecar = await readSidecar(path, options.pseudonymKey);
        if (sidecar.kind !== "ok") throw new Error(sidecar.kind === "missing" ? "no sidecar .json with its case" : sidecar.reason);
        return await buildIndexRecord(options.indexKey, path, sidecar.meta);
      } catch (error) {
        report.problems++;
        options.log(`${path}: ${(error as Error).message}; skipped`);
        return undefined;
      }
    });
  const send = async (paths: string[], records: (IndexRecord | undefined)[]) => {
    const ready = records.filter((r): r is IndexRecord => Boolean(r));
    if (ready.length) {
      const answer = await registerIndexRecords(config, ready);
      report.registered += answer.registered;
      report.alreadyKnown += answer.alreadyKnown;
      report.problems += answer.rejected.length;
      for (const r of answer.rejected) options.log(`${ready[r.index]!.fileName}: the hub refused it (${r.reason})`);
    }
    await writeFile(statePath, JSON.stringify({ dir: root, lastPath: paths[paths.length - 1] }));
    report.seconds = (performance.now() - started) / 1000;
    options.progress(report);
  };

  let pending: Promise<void> = Promise.resolve();
  let failure: unknown;
  let batch: string[] = [];
  const settle = async () => {
    await pending;
    if (failure) throw failure;
  };
  const flush = async () => {
    const paths = batch;
    batch = [];
    const records = await build(paths);
    await settle(); // batches reach the hub in order, so the saved position is always true
    pending = send(paths, records).catch((error: unknown) => void (failure = error));
  };
  for await (const path of walkSlides(root)) {
    report.found++;
    if (resumeAfter && compareWalkOrder(path, resumeAfter) <= 0) {
      report.skippedBefore++;
      continue;
    }
    batch.push(path);
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length) await flush();
  await settle();
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
