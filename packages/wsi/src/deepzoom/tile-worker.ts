import { parentPort, workerData } from "node:worker_threads";
import { useBlockingCodecs } from "../codec/jpeg";
import { openSlideAt } from "../slide";
import { createEncoder, type ResolvedOptions } from "./build";
import { runTileJob, type TileJob } from "./tile-threads";

export interface TileWorkerData {
  slidePath: string;
  options: ResolvedOptions;
}

/** A thread's answers: ready for a job, finished tiles (bytes transferred), then done or failed. */
export type TileWorkerMessage =
  | { type: "ready" }
  | { type: "tiles"; tiles: { level: number; col: number; row: number; bytes: Uint8Array }[] }
  | { type: "done"; id: number }
  | { type: "failed"; id: number; code?: string; message: string };

const { slidePath, options } = workerData as TileWorkerData;
// This thread decodes and encodes on itself: a hop to the shared thread pool would cost more than it frees.
useBlockingCodecs();
const slide = await openSlideAt(slidePath, { blockingReads: true });
const encode = createEncoder(options);

type Tile = { level: number; col: number; row: number; bytes: Uint8Array };
let batch: Tile[] = [];
const flush = () => {
  if (batch.length === 0) return;
  parentPort!.postMessage(
    { type: "tiles", tiles: batch } satisfies TileWorkerMessage,
    batch.map((t) => t.bytes.buffer as ArrayBuffer),
  );
  batch = [];
};
// A tile sent must own its whole ArrayBuffer: transferring it then moves nothing else.
const push = (level: number, col: number, row: number, data: Promise<Uint8Array> | Uint8Array) => {
  if (data instanceof Promise) throw new Error("a tiling thread got a tile still encoding");
  const own = data.byteOffset === 0 && data.byteLength === data.buffer.byteLength ? data : Uint8Array.from(data);
  batch.push({ level, col, row, bytes: own });
  if (batch.length >= 32) flush();
};

parentPort!.on("message", async ({ id, job }: { id: number; job: TileJob }) => {
  try {
    await runTileJob(slide, job, options, encode, push);
    flush();
    parentPort!.postMessage({ type: "done", id } satisfies TileWorkerMessage);
  } catch (error) {
    flush();
    const code = error && typeof error === "object" && "code" in error ? String(error.code) : undefined;
    parentPort!.postMessage({ type: "failed", id, code, message: error instanceof Error ? error.message : String(error) } satisfies TileWorkerMessage);
  }
});
parentPort!.postMessage({ type: "ready" } satisfies TileWorkerMessage);
