import { z } from "zod";

/** The hub's settings, read and checked once; nothing else reads process.env. */
const schema = z.object({
  AUTH_SECRET: z.string().min(16, "AUTH_SECRET must be at least 16 characters"),
  AUTH_URL: z.string().url().optional(),
  /** A lab's own identity provider (OpenID Connect); sign-in maps its verified email to a hub user. */
  OIDC_ISSUER: z.string().url().optional(),
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
  HOST: z.string().default("0.0.0.0"),
  WORKERS: z.coerce.number().int().min(1).max(32).default(1),
  EMBEDDED_DB_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  PGLITE_DIR: z.string().default(".data/pglite"),
  DATABASE_URL: z.string().url().optional(),
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
