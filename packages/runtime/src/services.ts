import { resolve } from "node:path";
import { type Db, type DbHandle, createDb, readDbEnv } from "@pathx/db";
import { type ObjectStore, createObjectStore, readStorageEnv } from "@pathx/storage";

export interface DataServices {
  handle: DbHandle;
  db: Db;
  store: ObjectStore;
  /** The PostgreSQL (or embedded PGlite server) URL, when the database is reached over the network. */
  databaseUrl: string | undefined;
}

/**
 * The database and the object store as every process opens them; relative folders
 * (PGLITE_DIR, STORAGE_DIR) are resolved against the working directory once, here.
 */
export async function openDataServices(env: Record<string, string | undefined> = process.env): Promise<DataServices> {
  const dbEnv = readDbEnv(env);
  const storageEnv = readStorageEnv(env);
  const handle = await createDb({ ...dbEnv, PGLITE_DIR: resolve(dbEnv.PGLITE_DIR) });
  const store = createObjectStore({ ...storageEnv, STORAGE_DIR: resolve(storageEnv.STORAGE_DIR) });
  return { handle, db: handle.db, store, databaseUrl: dbEnv.DATABASE_URL };
}

/**
 * Processes beside the web app (workers, tile service) share its database over the network:
 * without DATABASE_URL they cannot, so they stop with a hint (exit code 2) instead of opening a PGlite of their own.
 */
export function requireDatabaseUrl(processName: string, env: Record<string, string | undefined> = process.env): void {
  if (readDbEnv(env).DATABASE_URL) return;
  console.error(`${processName}: DATABASE_URL is not set; start it with npm start (embedded database) or point it at PostgreSQL.`);
  process.exit(2);
}
