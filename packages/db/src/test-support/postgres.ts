import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../../../../infra/postgres.sh", import.meta.url));

/** Starts (or reuses) the local PostgreSQL of infra/postgres.sh; returns its URLs. */
export function startLocalPostgres(): { databaseUrl: string; migrationUrl: string } {
  const output = execFileSync("bash", [script, "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const value = (name: string) => new RegExp(`^${name}=(.+)$`, "m").exec(output)?.[1];
  const databaseUrl = value("DATABASE_URL");
  const migrationUrl = value("MIGRATION_DATABASE_URL");
  if (!databaseUrl || !migrationUrl) throw new Error(`infra/postgres.sh printed no URLs:\n${output}`);
  return { databaseUrl, migrationUrl };
}
