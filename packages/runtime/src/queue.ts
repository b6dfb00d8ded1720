import PgBoss from "pg-boss";
import type { TilingQueue } from "@pathx/api";
import { readQueueEnv } from "./env";

export const TILE_QUEUE = "tile-slide";

/** The api's queue interface, plus stopping the sender (the seed stops it when done). */
export interface TilingQueueSender extends TilingQueue {
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
  const env = readQueueEnv();
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

export function createTilingQueue(boss: PgBoss): TilingQueueSender {
  return {
    async enqueueTiling(slideId) {
      await boss.send(TILE_QUEUE, { slideId }, { singletonKey: slideId });
    },
    stop: () => boss.stop({ graceful: true, wait: true }),
  };
}

/** Where the web app and the seed hand slides to the workers (apps/worker). */
export async function openTilingQueue(databaseUrl: string | undefined): Promise<TilingQueueSender> {
  if (!databaseUrl) throw new Error("the tiling queue needs DATABASE_URL (npm start sets it for the embedded database)");
  return createTilingQueue(await startBoss(databaseUrl, { role: "sender" }));
}
