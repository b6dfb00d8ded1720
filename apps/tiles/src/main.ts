import cluster from "node:cluster";
import { availableParallelism } from "node:os";
import { openDataServices, requireDatabaseUrl } from "@pathx/runtime";
import { useBlockingCodecs } from "@pathx/wsi";
import { codecsOnProcessThread, readTilesEnv } from "./env";
import { startTileService } from "./service";

// The tile service: TILE_PROCESSES processes share one port (node:cluster hands connections round).
const settings = readTilesEnv();
if (settings.TILE_PROCESSES > 1 && cluster.isPrimary) {
  let stopping = false;
  const fork = () =>
    cluster.fork().on("exit", (code, signal) => {
      if (stopping) return;
      console.error(`[tiles] a tile process exited (${signal ?? code}); starting another`);
      setTimeout(fork, 1000);
    });
  for (let i = 0; i < settings.TILE_PROCESSES; i++) fork();
  const stop = () => {
    stopping = true;
    for (const worker of Object.values(cluster.workers ?? {})) worker?.kill("SIGTERM");
    setTimeout(() => process.exit(0), 3000).unref();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
} else {
  requireDatabaseUrl("tiles");
  useBlockingCodecs(codecsOnProcessThread(settings, availableParallelism()));
  const { handle, store } = await openDataServices();
  const service = await startTileService({ settings, handle, store });
  if (!cluster.isWorker) console.log(`Tile service on http://${settings.TILES_HOST}:${settings.TILES_PORT} (${settings.TILE_PROCESSES} process)`);
  const stop = async () => {
    await service.close().catch(() => {});
    await handle.close().catch(() => {});
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
}
