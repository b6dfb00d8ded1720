export { readQueueEnv, type QueueEnv } from "./env";
export { openDataServices, requireDatabaseUrl, type DataServices } from "./services";
export { TILE_QUEUE, createTilingQueue, openTilingQueue, startBoss, type TilingQueueSender } from "./queue";
