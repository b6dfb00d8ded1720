import {
  type ApiDeps,
  type AuditSigningKey,
  type BoardChannel,
  type TileTokenSettings,
  type TilingQueue,
  createBusBoardChannel,
  loadAuditSigningKey,
  readApiEnv,
} from "@pathx/api";
import type { DbHandle } from "@pathx/db";
import { openTilingQueue } from "@pathx/runtime";
import { lazyEventHub } from "./events";
import { getServices } from "./services";

// One set of api dependencies, queue sender and audit key per server process (kept on
// globalThis: route handlers and pages may load their own copies of this module). The database
// and store come from ./services and the event hub from ./events, which import nothing of this module.
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
    const { handle, store } = await getServices();
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

/** Where the web app hands slides to the workers (apps/worker). */
export function getTilingQueue(): Promise<TilingQueue> {
  holder.pathxQueue ??= (async () => openTilingQueue((await getServices()).databaseUrl))();
  return holder.pathxQueue;
}

/** Tile tokens for the viewer, when the hub has the tile service's key (npm start makes one). */
function tileTokenSettings(): TileTokenSettings | undefined {
  const { TILE_TOKEN_SECRET, TILES_PUBLIC_URL, TILE_TOKEN_SECONDS } = readApiEnv();
  return TILE_TOKEN_SECRET ? { secret: TILE_TOKEN_SECRET, publicUrl: TILES_PUBLIC_URL, lifetimeSeconds: TILE_TOKEN_SECONDS } : undefined;
}
