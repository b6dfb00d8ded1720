import type { AddressInfo } from "node:net";
import { eq } from "drizzle-orm";
import { type DbHandle, schema } from "@pathx/db";
import type { ObjectStore } from "@pathx/storage";
import { createRevocationList } from "@pathx/tile-token";
import type { TilesEnv } from "./env";
import { createLimiter } from "./limiter";
import { type OpenPyramid, type SlideRecord, createPyramidRegistry, openStoredPyramid } from "./pyramids";
import { followRevocations } from "./revocations";
import { engineOpener } from "./engine-pyramid";
import { createTileCache } from "@pathx/wsi";
import { createTileServer } from "./server";

type ServiceSettings = Pick<
  TilesEnv,
  | "TILES_PORT"
  | "TILES_HOST"
  | "TILE_TOKEN_SECRET"
  | "HUB_ORIGIN"
  | "TILE_CACHE_CONTROL"
  | "TILE_MAX_AGE_SECONDS"
  | "TILE_OPEN_SLIDES"
  | "TILE_CACHE_MB"
  | "TILE_CONCURRENCY"
  | "TILE_QUEUE_LIMIT"
  | "TILE_TIMEOUT_MS"
  | "TILE_TOKEN_MAX_SECONDS"
>;

/** One tile process: its HTTP server, open slides, revocation list (fed by the event bus). */
export async function startTileService(deps: {
  settings: ServiceSettings;
  handle: DbHandle;
  store: ObjectStore;
  openers?: OpenPyramid[];
  log?: (line: string) => void;
}) {
  const { settings, handle, store } = deps;
  const log = deps.log ?? ((line: string) => console.error(line));
  const keepMs = settings.TILE_TOKEN_MAX_SECONDS * 1000 + 60_000;
  const revocations = createRevocationList({ keepMs });
  const stopFollowing = await followRevocations(handle, revocations, keepMs, log);
  const lookup = async (slideId: string): Promise<SlideRecord | undefined> => {
    const { slides } = schema;
    const [row] = await handle.db
      .select({ status: slides.status, sourceKey: slides.sourceKey, tilesPrefix: slides.tilesPrefix })
      .from(slides)
      .where(eq(slides.id, slideId))
      .limit(1);
    return row;
  };
  const pyramids = createPyramidRegistry({
    store,
    max: settings.TILE_OPEN_SLIDES,
    lookup,
    openers: deps.openers ?? [openStoredPyramid, engineOpener(createTileCache({ maxBytes: settings.TILE_CACHE_MB * 1024 * 1024 }))],
  });
  const server = createTileServer({
    secret: settings.TILE_TOKEN_SECRET,
    hubOrigin: new URL(settings.HUB_ORIGIN).origin,
    cacheControl: settings.TILE_CACHE_CONTROL,
    maxAgeSeconds: settings.TILE_MAX_AGE_SECONDS,
    timeoutMs: settings.TILE_TIMEOUT_MS,
    pyramids,
    revocations,
    limiter: createLimiter(settings.TILE_CONCURRENCY, settings.TILE_QUEUE_LIMIT),
    log,
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.TILES_PORT, settings.TILES_HOST, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    revocations,
    pyramids,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await stopFollowing();
      pyramids.closeAll();
    },
  };
}
