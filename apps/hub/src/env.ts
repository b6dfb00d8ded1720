import { z } from "zod";

/** The hub's settings, read and checked once; nothing else reads process.env. */
const schema = z
  .object({
    AUTH_SECRET: z.string().min(16, "AUTH_SECRET must be at least 16 characters"),
    AUTH_URL: z.string().url().optional(),
    NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
    /**
     * A lab's own identity provider (OpenID Connect), bound to the lab OIDC_LAB (its slug): it
     * signs in only that lab's members, never a hub administrator.
     */
    OIDC_ISSUER: z.string().url().optional(),
    OIDC_LAB: z.string().min(1).optional(),
    OIDC_CLIENT_ID: z.string().optional(),
    OIDC_CLIENT_SECRET: z.string().optional(),
    OIDC_NAME: z.string().default("your lab's sign-in"),
    DATABASE_URL: z.string().url().optional(),
    PGLITE_DIR: z.string().default(".data/pglite"),
    STORAGE_DIR: z.string().default(".data/objects"),
    S3_ENDPOINT: z.string().url().optional(),
    S3_REGION: z.string().default("us-east-1"),
    S3_BUCKET: z.string().optional(),
    S3_ACCESS_KEY_ID: z.string().optional(),
    S3_SECRET_ACCESS_KEY: z.string().optional(),
    /** Where the viewer loads tiles from (the tile service; npm start sets it): its origin is allowed by the Content-Security-Policy. */
    TILES_PUBLIC_URL: z.string().url().default("http://127.0.0.1:3001"),
    /** A request body (JSON, a snapshot) must have arrived within this time, or the request ends with 408. */
    BODY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
    /** The same for one upload chunk (up to 8 MB, over a lab's uplink). */
    CHUNK_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(120_000),
  })
  .refine((env) => !env.OIDC_ISSUER || env.OIDC_LAB, {
    message: "OIDC_LAB must name the lab (its slug) whose members OIDC_ISSUER signs in",
    path: ["OIDC_LAB"],
  });

let cached: z.infer<typeof schema> | undefined;

export function hubEnv(): z.infer<typeof schema> {
  if (cached) return cached;
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`hub settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  cached = parsed.data;
  return cached;
}

/** Settings of `npm start`'s supervisor (scripts/run.ts). */
const runSchema = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** Loopback unless set: the demo accounts' password is published (an explicit HOST opts out). */
  HOST: z.string().default("127.0.0.1"),
  WORKERS: z.coerce.number().int().min(1).max(32).default(1),
  EMBEDDED_DB_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  PGLITE_DIR: z.string().default(".data/pglite"),
  DATABASE_URL: z.string().url().optional(),
  /** The tile service (apps/tiles): its port (default PORT + 1), processes, and where browsers reach it. */
  TILES_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  TILE_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  TILES_PUBLIC_URL: z.string().url().optional(),
  /** The hub's public URL, announced when it is ready. */
  AUTH_URL: z.string().url().optional(),
  /** "false": seed labs and users only, no demo slides (tests that bring their own slides). */
  DEMO_SLIDES: z.enum(["true", "false"]).default("true"),
});

export function readRunEnv() {
  const parsed = runSchema.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`start settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
