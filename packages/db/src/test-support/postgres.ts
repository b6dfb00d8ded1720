import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../../../infra/postgres.sh", import.meta.url));

export interface LocalPostgresOptions {
  /** PG_PORT of infra/postgres.sh (default 54329). */
  port?: number;
  /** PG_DATA_DIR: the cluster's folder; the postgres user must be able to reach it. */
  dataDir?: string;
}

const scriptEnv = (options: LocalPostgresOptions) => ({
  ...process.env,
  // PATHX_TEST_PORT_OFFSET lets several checkouts run their suites side by side.
  PG_PORT: String(options.port ?? 54329 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0)),
  ...(options.dataDir ? { PG_DATA_DIR: options.dataDir } : {}),
});

/** Starts (or reuses) the local PostgreSQL of infra/postgres.sh; returns its URLs. */
export function startLocalPostgres(options: LocalPostgresOptions = {}): { databaseUrl: string; migrationUrl: string; stop(): void } {
  const output = execFileSync("bash", [script, "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], env: scriptEnv(options) });
  const value = (name: string) => new RegExp(`^${name}=(.+)$`, "m").exec(output)?.[1];
  const databaseUrl = value("DATABASE_URL");
  const migrationUrl = value("MIGRATION_DATABASE_URL");
  if (!databaseUrl || !migrationUrl) throw new Error(`infra/postgres.sh printed no URLs:\n${output}`);
  return { databaseUrl, migrationUrl, stop: () => void execFileSync("bash", [script, "stop"], { stdio: "ignore", env: scriptEnv(options) }) };
}
