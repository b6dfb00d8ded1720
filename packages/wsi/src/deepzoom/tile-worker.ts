import { parentPort, workerData } from "node:worker_threads";
import { useBlockingCodecs } from "../codec/jpeg";
import { openSlideAt } from "../slide";
import { createEncoder, type ResolvedOptions, streamPass } from "./build";
import type { PyramidPass } from "./plan";
import { renderSection, type SectionJob } from "./section";

/** Work handed to a tiling thread: a run of tile rows of one level, or a whole pass (several levels). */
export type TileJob = { kind: "section"; section: SectionJob } | { kind: "pass"; pass: PyramidPass };

export interface TileWorkerData {
  slidePath: string;
  options: ResolvedOptions;
}

/** A thread's answer: finished tiles (bytes transferred), then done or failed. */
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
const push = (level: number, col: number, row: number, bytes: Uint8Array) => {
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : Uint8Array.from(bytes);
  batch.push({ level, col, row, bytes: own });
  if (batch.length >= 32) flush();
};

async function run(job: TileJob): Promise<void> {
  if (job.kind === "section") {
    await renderSection(slide, job.section, options.tileSize, options.overlap, async (tile, pixels) =>
      push(tile.level.level, tile.col, tile.row, await encode(pixels)),
    );
    return;
  }
  const pending: Promise<void>[] = [];
  await streamPass(
    slide,
    job.pass,
    options,
    false,
    { waitBelow: async () => void (await Promise.all(pending.splice(0))) },
    (level, col, row, data) => {
      pending.push(Promise.resolve(data).then((bytes) => push(level, col, row, bytes)));
    },
    encode,
  );
  await Promise.all(pending);
}

parentPort!.on("message", async ({ id, job }: { id: number; job: TileJob }) => {
  try {
    await run(job);
    flush();
    parentPort!.postMessage({ type: "done", id } satisfies TileWorkerMessage);
  } catch (error) {
    flush();
    const code = error && typeof error === "object" && "code" in error ? String(error.code) : undefined;
    parentPort!.postMessage({ type: "failed", id, code, message: error instanceof Error ? error.message : String(error) } satisfies TileWorkerMessage);
  }
});
parentPort!.postMessage({ type: "ready" } satisfies TileWorkerMessage);
