import { Worker } from "node:worker_threads";
import { WsiError, type WsiErrorCode } from "../errors";
import type { ResolvedOptions, Write } from "./build";
import type { PyramidPass } from "./plan";
import { splitSections } from "./section";
import type { TileJob, TileWorkerData, TileWorkerMessage } from "./tile-worker";

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

/**
 * Runs the passes on worker threads that each open the slide, decode, cut and encode; this
 * thread only hands out jobs and passes the tiles they send to `write` (the sink).
 */
export async function runOnThreads(
  slidePath: string,
  threads: number,
  passes: PyramidPass[],
  o: ResolvedOptions,
  write: Write,
  signal?: AbortSignal,
): Promise<void> {
  const jobs = planThreadJobs(passes, threads, o.tileSize);
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let running = 0;
      let failed = false;
      const fail = (error: Error) => {
        failed = true;
        reject(error);
      };
      signal?.addEventListener("abort", () => fail(new WsiError("IO_ERROR", "tiling was cancelled.")), { once: true });
      const give = (worker: Worker) => {
        if (failed) return;
        if (next >= jobs.length) {
          if (running === 0) resolve();
          return;
        }
        running++;
        worker.postMessage({ id: next, job: jobs[next++]! });
      };
      const data: TileWorkerData = { slidePath, options: o };
      for (let i = 0; i < Math.min(threads, jobs.length); i++) {
        const worker = new Worker(new URL("./tile-worker.mjs", import.meta.url), { workerData: data });
        workers.push(worker);
        worker.on("message", (message: TileWorkerMessage) => {
          if (message.type === "tiles") for (const t of message.tiles) write(t.level, t.col, t.row, t.bytes);
          else if (message.type === "failed") fail(new WsiError((message.code as WsiErrorCode | undefined) ?? "CORRUPT", message.message));
          else {
            if (message.type === "done") running--;
            give(worker);
          }
        });
        worker.on("error", (error) => fail(error));
        worker.on("exit", (code) => fail(new WsiError("IO_ERROR", `a tiling thread stopped (exit code ${code}).`)));
      }
    });
  } finally {
    for (const w of workers) w.removeAllListeners("exit");
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
