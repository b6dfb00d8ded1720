import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { readStorageEnv } from "./env";

const script = fileURLToPath(new URL("../../../infra/s3.sh", import.meta.url));

/** Starts (or reuses) the local S3-compatible server of infra/s3.sh; returns storage settings. */
export function startLocalS3() {
  const output = execFileSync("bash", [script, "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const settings = Object.fromEntries(output.trim().split("\n").map((line) => line.split("=", 2) as [string, string]));
  return readStorageEnv(settings);
}
