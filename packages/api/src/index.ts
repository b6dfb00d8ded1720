export { ApiError, type ApiErrorCode, notFound } from "./errors";
export { appRouter, type AppRouter } from "./routers/index";
export { createContext, createCallerFactory, type ApiContext, type ApiDeps } from "./trpc";
export { authenticateWithPassword, loadSessionUser, type Membership, type SessionUser } from "./domain/users";
export { hashPassword, verifyPassword } from "./domain/passwords";
export { findViewableSlide, type SlideRow } from "./domain/slides";
export { tileSlide, singleTileLevel } from "./domain/tiling";
export { createStoreSink } from "./domain/store-sink";
export { TILE_QUEUE, createTilingQueue, runTilingWorker, startBoss, type TilingQueue } from "./jobs/queue";
