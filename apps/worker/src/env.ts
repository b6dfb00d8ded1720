import { z } from "zod";

/** The worker's schedules, read and checked once (the queue's own settings are @pathx/runtime's). */
const schema = z.object({
  /** Events older than this are pruned; a client away longer reloads instead of catching up. */
  EVENTS_KEEP_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(24),
  /** Set in the cloud: the workers then log the queue metrics that scale them (Embedded Metric Format). */
  PATHX_STACK: z.string().min(1).max(100).optional(),
  QUEUE_METRICS_SECONDS: z.coerce.number().int().min(10).max(3600).default(60),
  /** How often the workers sign a checkpoint of every lab's audit chain that moved. */
  AUDIT_CHECKPOINT_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(15),
});

export type WorkerEnv = z.infer<typeof schema>;

export function readWorkerEnv(source: Record<string, string | undefined> = process.env): WorkerEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`worker settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
