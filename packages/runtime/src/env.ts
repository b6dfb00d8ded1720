import { z } from "zod";

/** The tiling queue's settings; every process that opens the queue (hub, seed, workers) must agree. */
const schema = z.object({
  /** A tiling job active this long is taken as its worker's death and retried by another worker. */
  TILE_JOB_EXPIRE_SECONDS: z.coerce
    .number()
    .int()
    .min(5)
    .max(86_400)
    .default(15 * 60),
  /** How often the workers' queue maintenance runs (expiring dead workers' jobs among other things). */
  QUEUE_MAINTENANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** Pause before a failed tiling job is retried (doubled at each attempt). */
  TILE_RETRY_DELAY_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
});

export type QueueEnv = z.infer<typeof schema>;

export function readQueueEnv(source: Record<string, string | undefined> = process.env): QueueEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`queue settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
