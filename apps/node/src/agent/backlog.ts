import { createHash } from "node:crypto";
import { opendir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import type { NodeConfig } from "./config";
import { availableParallelism } from "node:os";
import type { BacklogResult } from "./backlog-record";
import { registerIndexRecordsJson } from "./index-record";
import { createReaderPool } from "./reader-pool";
import { SLIDE_FILE } from "./sidecar";

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

/** Slides handed to a reader thread at a time: small enough to keep every thread busy, big enough to cost few messages. */
const CHUNK = 16;

/**
 * Registers an existing archive index-only, in batches: each slide's metadata, case from its
 * sidecar (patient id pseudonymised here) and a thumbnail; the pixels stay until the hub asks.
 * Reader threads (one per core by default) read the slides while the main thread walks the
 * folders and sends batches, two at a time, so reading, sending and the hub's inserts overlap.
 * After each batch the last slide done is saved next to the node's config (only once every
 * earlier batch is done too), so a stopped run continues where it was; the hub ignores a
 * slide it already has, so overlapping runs do no harm.
 */
export async function registerBacklog(
  dir: string,
  config: NodeConfig,
  options: {
    indexKey: Buffer;
    configPath: string;
    pseudonymKey?: string;
    batchSize?: number;
    /** Slides in flight per reader thread. */
    concurrency?: number;
    /** Reader threads (default: one per core). */
    threads?: number;
    restart?: boolean;
    log: (line: string) => void;
    progress: (report: BacklogReport) => void;
  },
): Promise<BacklogReport> {
  const root = resolve(dir);
  const statePath = join(dirname(options.configPath), `backlog-${createHash("sha256").update(root).digest("hex").slice(0, 16)}.json`);
  const resumeAfter = options.restart
    ? undefined
    : ((JSON.parse(await readFile(statePath, "utf8").catch(() => "{}")) as { lastPath?: string }).lastPath ?? undefined);
  if (resumeAfter) options.log(`continuing after ${resumeAfter} (from ${statePath}; --restart to start over)`);
  const batchSize = options.batchSize ?? 500;
  const started = performance.now();
  const report: BacklogReport = { found: 0, registered: 0, alreadyKnown: 0, skippedBefore: 0, problems: 0, seconds: 0 };
  const threads = options.threads ?? availableParallelism();
  const pool = createReaderPool(threads, { indexKey: options.indexKey, pseudonymKey: options.pseudonymKey, concurrency: options.concurrency ?? 4 });

  // Sending: at most two batches in flight; each one's answer is counted, and the position
  // saved, only after every earlier batch is done, so the saved position is always true.
  let failure: unknown;
  // The first failure is the one reported; later ones follow from it.
  const rememberFailure = (error: unknown) => {
    failure ??= error;
  };
  let done: Promise<void> = Promise.resolve();
  const inFlight = new Set<Promise<unknown>>();
  const send = async (paths: string[], records: Uint8Array[], fileNames: string[]) => {
    while (inFlight.size >= 2) await Promise.race(inFlight);
    if (failure) throw failure;
    const request = records.length ? registerIndexRecordsJson(config, records) : Promise.resolve(undefined);
    const previous = done;
    done = (async () => {
      const answer = await request.catch(rememberFailure);
      await previous;
      // After a failed batch nothing later counts, so the saved position never passes it.
      if (failure) return;
      if (answer) {
        report.registered += answer.registered;
        report.alreadyKnown += answer.alreadyKnown;
        report.problems += answer.rejected.length;
        for (const r of answer.rejected) options.log(`${fileNames[r.index]}: the hub refused it (${r.reason})`);
      }
      await writeFile(statePath, JSON.stringify({ dir: root, lastPath: paths[paths.length - 1] }));
      report.seconds = (performance.now() - started) / 1000;
      options.progress(report);
    })().catch(rememberFailure);
    const tracked = done.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  // Reading: chunks go to the threads in walk order and are taken back in that order.
  const reading: Promise<BacklogResult[]>[] = [];
  let batch: { paths: string[]; records: Uint8Array[]; fileNames: string[] } = { paths: [], records: [], fileNames: [] };
  const takeOldest = async () => {
    for (const result of await reading.shift()!) {
      batch.paths.push(result.path);
      if ("problem" in result) {
        report.problems++;
        options.log(`${result.path}: ${result.problem}; skipped`);
      } else {
        batch.records.push(result.json);
        batch.fileNames.push(result.fileName);
      }
      if (batch.paths.length >= batchSize) {
        const full = batch;
        batch = { paths: [], records: [], fileNames: [] };
        await send(full.paths, full.records, full.fileNames);
      }
    }
  };
  try {
    let chunk: string[] = [];
    for await (const path of walkSlides(root)) {
      report.found++;
      if (resumeAfter && compareWalkOrder(path, resumeAfter) <= 0) {
        report.skippedBefore++;
        continue;
      }
      chunk.push(path);
      if (chunk.length < CHUNK) continue;
      reading.push(pool.read(chunk));
      chunk = [];
      // Enough read ahead to keep every thread busy while a batch is sent, and no more (memory).
      if (reading.length >= threads * 4) await takeOldest();
    }
    if (chunk.length) reading.push(pool.read(chunk));
    while (reading.length) await takeOldest();
    if (batch.paths.length) await send(batch.paths, batch.records, batch.fileNames);
    await done;
    if (failure) throw failure;
  } finally {
    await Promise.allSettled(reading);
    await pool.close();
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
