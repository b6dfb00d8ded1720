import type PgBoss from "pg-boss";
import type { Db } from "@pathx/db";
import { TILE_QUEUE } from "@pathx/runtime";
import type { ObjectStore } from "@pathx/storage";
import { isPermanentSlideError, type TileOutcome, tileSlide } from "./tiling";

/** Runs tiling jobs one at a time per worker process (tiling uses both cores by itself). */
export async function runTilingWorker(boss: PgBoss, deps: { db: Db; store: ObjectStore }, log: (line: string) => void = console.log) {
  await boss.work<{ slideId: string }>(TILE_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
    if (!job) return;
    const started = performance.now();
    log(`[worker ${process.pid}] tiling slide ${job.data.slideId} (job ${job.id})`);
    let outcome: TileOutcome;
    try {
      // After expireInSeconds pg-boss gives up on this handler and retries the job, but the
      // attempt goes on: if it finishes before the retry claims the slide, the slide is ready
      // and the retry has nothing to do; once the retry claims it, this attempt stops.
      outcome = await tileSlide(deps.db, deps.store, job.data.slideId, { jobId: job.id });
    } catch (error) {
      if (isPermanentSlideError(error)) {
        log(`[worker ${process.pid}] slide ${job.data.slideId} cannot be tiled: ${error.message}`);
        return;
      }
      throw error; // pg-boss retries, a bounded number of times
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    if (outcome === "done") log(`[worker ${process.pid}] slide ${job.data.slideId} ready in ${seconds} s`);
    else if (outcome === "already-done") log(`[worker ${process.pid}] slide ${job.data.slideId} was already made ready by an earlier attempt of job ${job.id}`);
    else log(`[worker ${process.pid}] slide ${job.data.slideId}: another attempt took it over; this one's pyramid was discarded (${seconds} s)`);
  });
}
