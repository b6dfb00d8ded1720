import { resolve } from "node:path";
import { type ApiDeps, type TilingQueue, createTilingQueue, startBoss } from "@pathx/api";
import { type DbHandle, createDb, readDbEnv } from "@pathx/db";
import { createObjectStore, readStorageEnv } from "@pathx/storage";

// One database handle, object store and queue sender per server process.
const holder = globalThis as unknown as {
  pathxDeps?: Promise<ApiDeps & { handle: DbHandle }>;
  pathxQueue?: Promise<TilingQueue>;
};

export function getDeps(): Promise<ApiDeps & { handle: DbHandle }> {
  holder.pathxDeps ??= (async () => {
    const dbEnv = readDbEnv();
    const storageEnv = readStorageEnv();
    const handle = await createDb({ ...dbEnv, PGLITE_DIR: resolve(dbEnv.PGLITE_DIR) });
    const store = createObjectStore({ ...storageEnv, STORAGE_DIR: resolve(storageEnv.STORAGE_DIR) });
    return { db: handle.db, store, handle, enqueueTiling: async (slideId: string) => (await getTilingQueue()).enqueueTiling(slideId) };
  })();
  return holder.pathxDeps;
}

/** Where the web app hands slides to the tiling workers. */
export function getTilingQueue(): Promise<TilingQueue> {
  holder.pathxQueue ??= (async () => {
    const { DATABASE_URL } = readDbEnv();
    if (!DATABASE_URL) throw new Error("the tiling queue needs DATABASE_URL (npm start sets it for the embedded database)");
    return createTilingQueue(await startBoss(DATABASE_URL, { role: "sender" }));
  })();
  return holder.pathxQueue;
}
