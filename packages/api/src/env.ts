import { z } from "zod";

/**
 * The tile token and audit settings of the hub, read and checked once. (The queue's settings
 * are @pathx/runtime's, the workers' schedules apps/worker's.)
 */
const schema = z.object({
  /** Set in the cloud (every ECS task): the audit signing key must then come from the secret store. */
  PATHX_STACK: z.string().min(1).max(100).optional(),
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
});

export type ApiEnv = z.infer<typeof schema>;

export function readApiEnv(source: Record<string, string | undefined> = process.env): ApiEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`tile token and audit settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
