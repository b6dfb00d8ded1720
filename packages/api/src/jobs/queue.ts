import PgBoss from "pg-boss";
import type { Db } from "@pathx/db";
import type { ObjectStore } from "@pathx/storage";
import { isPermanentSlideError, tileSlide } from "../domain/tiling";
import { readApiEnv } from "../env";

export const TILE_QUEUE = "tile-slide";

export interface TilingQueue {
  enqueueTiling(slideId: string): Promise<void>;
  stop(): Promise<void>;
}

/**
 * pg-boss on the hub's own PostgreSQL (or the embedded PGlite server): jobs survive restarts,
 * a job whose worker died expires and is retried, attempts are bounded. Timings not given come
 * from the environment (TILE_JOB_EXPIRE_SECONDS, QUEUE_MAINTENANCE_SECONDS, TILE_RETRY_DELAY_SECONDS).
 */
export async function startBoss(
  databaseUrl: string,
  options: { role: "sender" | "worker"; expireInSeconds?: number; maintenanceIntervalSeconds?: number; retryDelay?: number },
): Promise<PgBoss> {
  const env = readApiEnv();
  const boss = new PgBoss({
    connectionString: databaseUrl,
    max: options.role === "worker" ? 3 : 2,
    application_name: `pathx-${options.role}`,
    // Maintenance (expiring dead workers' jobs, archiving) runs in the workers.
    supervise: options.role === "worker",
    schedule: false,
    maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? env.QUEUE_MAINTENANCE_SECONDS,
  });
  boss.on("error", (error: Error) => console.error(`[queue] ${error.message}`));
  await boss.start();
  const policy = {
    name: TILE_QUEUE,
    retryLimit: 2,
    retryDelay: options.retryDelay ?? env.TILE_RETRY_DELAY_SECONDS,
    retryBackoff: true,
    // A worker killed mid-job leaves it active; after this long it is retried elsewhere.
    expireInSeconds: options.expireInSeconds ?? env.TILE_JOB_EXPIRE_SECONDS,
  };
  await boss.createQueue(TILE_QUEUE, policy);
  await boss.updateQueue(TILE_QUEUE, policy); // an existing queue takes the current policy too
  return boss;
}

export function createTilingQueue(boss: PgBoss): TilingQueue {
  return {
    async enqueueTiling(slideId) {
      await boss.send(TILE_QUEUE, { slideId }, { singletonKey: slideId });
    },
    stop: () => boss.stop({ graceful: true, wait: true }),
  };
}

/** Runs tiling jobs one at a time per worker process (tiling uses both cores by itself). */
export async function runTilingWorker(boss: PgBoss, deps: { db: Db; store: ObjectStore }, log: (line: string) => void = console.log) {
  await boss.work<{ slideId: string }>(TILE_QUEUE, { batchSize: 1, pollingIntervalSeconds: 1 }, async ([job]) => {
    if (!job) return;
    const started = performance.now();
    log(`[worker ${process.pid}] tiling slide ${job.data.slideId} (job ${job.id})`);
    let outcome;
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
