import { z } from "zod";

/** Object storage settings: S3 when S3_BUCKET is set, otherwise a local folder. */
const schema = z.object({
  STORAGE_DIR: z.string().min(1).default(".data/objects"),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).default("us-east-1"),
  S3_BUCKET: z.string().min(3).optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
});

export type StorageEnv = z.infer<typeof schema>;

export function readStorageEnv(source: Record<string, string | undefined> = process.env): StorageEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    throw new Error(`storage settings are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  }
  return parsed.data;
}
