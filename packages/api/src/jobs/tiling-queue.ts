/**
 * All the api knows of background work: a received slide is handed over for tiling. The queue
 * itself (pg-boss) is opened by @pathx/runtime and worked by apps/worker; tests pass a function.
 */
export interface TilingQueue {
  enqueueTiling(slideId: string): Promise<void>;
}
