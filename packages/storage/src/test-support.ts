import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { type StorageEnv, readStorageEnv } from "./env";
import { createS3Client } from "./s3-store";

const script = fileURLToPath(new URL("../../../infra/s3.sh", import.meta.url));

export interface LocalS3Options {
  /** S3_PORT of infra/s3.sh (default 45690). */
  port?: number;
  /** S3_DATA_DIR: where s3rver keeps the objects. */
  dataDir?: string;
}

const scriptEnv = (options: LocalS3Options) => ({
  ...process.env,
  // PATHX_TEST_PORT_OFFSET lets several checkouts run their suites side by side.
  S3_PORT: String(options.port ?? 45690 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0)),
  ...(options.dataDir ? { S3_DATA_DIR: options.dataDir } : {}),
});

/**
 * Starts (or reuses) the local S3-compatible server of infra/s3.sh and makes sure its bucket
 * exists (a server left running from a deleted checkout answers but has lost it).
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<StorageEnv & { stop(): void }> {
  const output = execFileSync("bash", [script, "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: scriptEnv(options) });
  const settings = readStorageEnv(
    Object.fromEntries(
      output
        .trim()
        .split("\n")
        .map((line) => line.split("=", 2) as [string, string]),
    ),
  );
  const client = createS3Client({
    endpoint: settings.S3_ENDPOINT,
    region: settings.S3_REGION,
    bucket: settings.S3_BUCKET!,
    accessKeyId: settings.S3_ACCESS_KEY_ID,
    secretAccessKey: settings.S3_SECRET_ACCESS_KEY,
  });
  await client.send(new CreateBucketCommand({ Bucket: settings.S3_BUCKET })).catch((error: { name?: string }) => {
    if (error.name !== "BucketAlreadyOwnedByYou" && error.name !== "BucketAlreadyExists") throw error;
  });
  return { ...settings, stop: () => void execFileSync("bash", [script, "stop"], { stdio: "ignore", env: scriptEnv(options) }) };
}
