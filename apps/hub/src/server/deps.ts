import { resolve } from "node:path";
import {
  type ApiDeps,
  type AuditSigningKey,
  type BoardChannel,
  type TileTokenSettings,
  type TilingQueue,
  createBusBoardChannel,
  createTilingQueue,
  loadAuditSigningKey,
  readApiEnv,
  startBoss,
} from "@pathx/api";
import { type DbHandle, createDb, readDbEnv } from "@pathx/db";
import { createObjectStore, readStorageEnv } from "@pathx/storage";
import { lazyEventHub } from "./events";

// One database handle, object store, queue sender and board channel per server process (kept
// on globalThis: route handlers and pages may load their own copies of this module).
type HubDeps = ApiDeps & { handle: DbHandle; boardChannel: BoardChannel };
const holder = globalThis as unknown as {
  pathxDeps?: Promise<HubDeps>;
  pathxQueue?: Promise<TilingQueue>;
  pathxAuditKey?: Promise<AuditSigningKey>;
};

/** The audit checkpoint signing key (AUDIT_SIGNING_KEY, or the 0600 key file in the data folder). */
export function getAuditKey(): Promise<AuditSigningKey> {
  holder.pathxAuditKey ??= loadAuditSigningKey(readApiEnv());
  return holder.pathxAuditKey;
}

export function getDeps(): Promise<HubDeps> {
  holder.pathxDeps ??= (async () => {
    const dbEnv = readDbEnv();
    const storageEnv = readStorageEnv();
    const handle = await createDb({ ...dbEnv, PGLITE_DIR: resolve(dbEnv.PGLITE_DIR) });
    const store = createObjectStore({ ...storageEnv, STORAGE_DIR: resolve(storageEnv.STORAGE_DIR) });
    return {
      db: handle.db,
      store,
      handle,
      enqueueTiling: async (slideId: string) => (await getTilingQueue()).enqueueTiling(slideId),
      // Live tumor boards over the event bus: presenter and followers may be on different hubs.
      boardChannel: createBusBoardChannel(handle.db, lazyEventHub),
      tileTokens: tileTokenSettings(),
      auditKey: getAuditKey,
    };
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

/** Tile tokens for the viewer, when the hub has the tile service's key (npm start makes one). */
function tileTokenSettings(): TileTokenSettings | undefined {
  const { TILE_TOKEN_SECRET, TILES_PUBLIC_URL, TILE_TOKEN_SECONDS } = readApiEnv();
  return TILE_TOKEN_SECRET ? { secret: TILE_TOKEN_SECRET, publicUrl: TILES_PUBLIC_URL, lifetimeSeconds: TILE_TOKEN_SECONDS } : undefined;
}
