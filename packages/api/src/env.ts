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
  /** The key the hub signs tile tokens with and the tile service checks them with (scripts/start.sh makes one). */
  TILE_TOKEN_SECRET: z.string().min(32, "TILE_TOKEN_SECRET must be at least 32 characters").optional(),
  /** Where browsers reach the tile service (apps/tiles): its own port locally, the CDN's origin in the cloud. */
  TILES_PUBLIC_URL: z.string().url().default("http://127.0.0.1:3001"),
  /** A tile token's lifetime; the viewer renews it while open. */
  TILE_TOKEN_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
  /**
   * Proxies in front of the hub that append the address they saw to X-Forwarded-For (an AWS
   * load balancer: 1). 0: the hub is reached directly and records the TCP peer.
   */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
  /** The audit checkpoint signing key (Ed25519, PKCS#8 PEM) from a secret store; else AUDIT_KEY_FILE. */
  AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  /** Created 0600 on first use when AUDIT_SIGNING_KEY is not set. */
  AUDIT_KEY_FILE: z.string().default(".data/audit-signing-key.pem"),
  /** How often the workers sign a checkpoint of every lab's audit chain that moved. */
  AUDIT_CHECKPOINT_MINUTES: z.coerce.number().int().min(1).max(24 * 60).default(15),
});

export type ApiEnv = z.infer<typeof schema>;

export function readApiEnv(source: Record<string, string | undefined> = process.env): ApiEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`queue, event and tile token settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
