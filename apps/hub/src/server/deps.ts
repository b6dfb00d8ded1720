import { resolve } from "node:path";
import type { ApiDeps } from "@pathx/api";
import { type DbHandle, createDb, readDbEnv } from "@pathx/db";
import { createObjectStore, readStorageEnv } from "@pathx/storage";
import { hubEnv } from "../env";

// One database handle and object store per server process (PGlite allows one opener).
const holder = globalThis as unknown as { pathxDeps?: Promise<ApiDeps & { handle: DbHandle }> };

export function getDeps(): Promise<ApiDeps & { handle: DbHandle }> {
  holder.pathxDeps ??= (async () => {
    const env = hubEnv();
    const handle = await createDb(readDbEnv({ DATABASE_URL: env.DATABASE_URL, PGLITE_DIR: resolve(env.PGLITE_DIR) }));
    const store = createObjectStore(readStorageEnv({ ...env, STORAGE_DIR: resolve(env.STORAGE_DIR) }));
    return { db: handle.db, store, handle };
  })();
  return holder.pathxDeps;
}
