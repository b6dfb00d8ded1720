export { startTileService } from "./service";
export { readTilesEnv, type TilesEnv } from "./env";
