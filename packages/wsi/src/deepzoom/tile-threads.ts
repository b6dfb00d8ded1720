import { Worker } from "node:worker_threads";
import { WsiError, type WsiErrorCode } from "../errors";
import type { Slide } from "../slide";
import { type Encode, type ResolvedOptions, streamPass, type Write } from "./build";
import type { PyramidPass } from "./plan";
import { renderSection, type SectionJob, splitSections } from "./section";
import type { TileWorkerData, TileWorkerMessage } from "./tile-worker";

/** Work for one thread: a run of tile rows of one level, or a whole pass (several levels). */
export type TileJob = { kind: "section"; section: SectionJob } | { kind: "pass"; pass: PyramidPass };

const workOf = (job: TileJob, tileSize: number) =>
  job.kind === "section"
    ? job.section.level.width * (job.section.rowEnd - job.section.rowStart) * tileSize
    : job.pass.levels.reduce((n, l) => n + l.width * l.height, 0);

/**
 * Cuts the passes into jobs: a pass making one level is split into runs of tile rows, so that
 * there are about two jobs per thread of similar size; a pass making several levels (box
 * shrinking from one to the next) stays whole. Largest first, so the threads finish together.
 */
export function planThreadJobs(passes: PyramidPass[], threads: number, tileSize: number): TileJob[] {
  const total = passes.reduce((n, p) => n + p.levels.reduce((m, l) => m + l.width * l.height, 0), 0);
  const target = total / (threads * 2);
  const jobs: TileJob[] = [];
  for (const pass of passes) {
    const root = pass.levels[0]!;
    if (pass.levels.length > 1) jobs.push({ kind: "pass", pass });
    else for (const section of splitSections(pass.sourceLevel, root, Math.round((root.width * root.height) / target))) jobs.push({ kind: "section", section });
  }
  return jobs.sort((a, b) => workOf(b, tileSize) - workOf(a, tileSize));
}

/** Runs one job on this thread; `write` gets every tile (bytes or their promise). */
export async function runTileJob(slide: Slide, job: TileJob, o: ResolvedOptions, encode: Encode, write: Write, signal?: AbortSignal): Promise<void> {
  if (job.kind === "section") {
    await renderSection(
      slide,
      job.section,
      o.tileSize,
      o.overlap,
      async (tile, pixels) => write(tile.level.level, tile.col, tile.row, await encode(pixels)),
      signal,
    );
    return;
  }
  const pending: Promise<unknown>[] = [];
  const flush = { waitBelow: async () => void (await Promise.all(pending.splice(0))) };
  await streamPass(
    slide,
    job.pass,
    o,
    false,
    flush,
    (level, col, row, data) => pending.push(Promise.resolve(data).then((bytes) => write(level, col, row, bytes))),
    encode,
    signal,
  );
  await Promise.all(pending);
}

export type ThreadRunner = typeof runOnThreads;

/** `buildDeepZoom`'s `threads` option: `workers` threads besides this one, each opening `slidePath`. */
export const onThreads = (workers: number, slidePath: string) => ({ workers, slidePath, run: runOnThreads });

/**
 * Runs the passes on this thread (codecs on libuv's pool) and on `workers` worker threads that
 * each open the slide and decode, cut and encode on themselves, sending the tiles here to be
 * written. This thread starts at once; a worker joins when it has loaded (about a second).
 */
export async function runOnThreads(
  slide: Slide,
  slidePath: string,
  workers: number,
  passes: PyramidPass[],
  o: ResolvedOptions,
  write: Write,
  encode: Encode,
  signal?: AbortSignal,
): Promise<void> {
  const jobs = planThreadJobs(passes, workers + 1, o.tileSize);
  let next = 0;
  const threads: Worker[] = [];
  let stop: (error: Error) => void = () => {};
  const stopped = new Promise<never>((_, reject) => {
    stop = reject;
  });
  stopped.catch(() => {});
  const onThisThread = (async () => {
    while (next < jobs.length) await runTileJob(slide, jobs[next++]!, o, encode, write, signal);
  })();
  const onWorkers = Array.from(
    { length: Math.min(workers, jobs.length - 1) },
    () =>
      new Promise<void>((resolve, reject) => {
        const data: TileWorkerData = { slidePath, options: o };
        const worker = new Worker(new URL("./tile-worker.mjs", import.meta.url), { workerData: data });
        threads.push(worker);
        const give = () => (next < jobs.length ? worker.postMessage({ id: next, job: jobs[next++]! }) : resolve());
        worker.on("message", (message: TileWorkerMessage) => {
          if (message.type === "tiles") for (const t of message.tiles) write(t.level, t.col, t.row, t.bytes);
          else if (message.type === "failed") reject(new WsiError((message.code as WsiErrorCode | undefined) ?? "CORRUPT", message.message));
          else give();
        });
        worker.on("error", reject);
        worker.on("exit", (code) => reject(new WsiError("IO_ERROR", `a tiling thread stopped (exit code ${code}).`)));
      }),
  );
  signal?.addEventListener("abort", () => stop(new WsiError("IO_ERROR", "tiling was cancelled.")), { once: true });
  try {
    await Promise.race([Promise.all([onThisThread, ...onWorkers]), stopped]);
  } catch (error) {
    next = jobs.length; // no further jobs for this thread
    throw error;
  } finally {
    for (const w of threads) w.removeAllListeners("exit");
    await Promise.all(threads.map((w) => w.terminate()));
    await onThisThread.catch(() => {});
  }
}
