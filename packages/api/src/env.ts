import { z } from "zod";

/** The queue and event settings of the hub and its workers, read and checked once. */
const schema = z.object({
  /** A tiling job active this long is taken as its worker's death and retried by another worker. */
  TILE_JOB_EXPIRE_SECONDS: z.coerce.number().int().min(5).max(86_400).default(15 * 60),
  /** How often the workers' queue maintenance runs (expiring dead workers' jobs among other things). */
  QUEUE_MAINTENANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  /** Pause before a failed tiling job is retried (doubled at each attempt). */
  TILE_RETRY_DELAY_SECONDS: z.coerce.number().int().min(0).max(3600).default(5),
  /** Events older than this are pruned; a client away longer reloads instead of catching up. */
  EVENTS_KEEP_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24),
  /** Set in the cloud: the workers then log the queue metrics that scale them (Embedded Metric Format). */
  PATHX_STACK: z.string().min(1).max(100).optional(),
  QUEUE_METRICS_SECONDS: z.coerce.number().int().min(10).max(3600).default(60),
});

export type ApiEnv = z.infer<typeof schema>;

export function readApiEnv(source: Record<string, string | undefined> = process.env): ApiEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`queue and event settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
