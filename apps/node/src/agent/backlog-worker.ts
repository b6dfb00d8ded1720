import { parentPort, workerData } from "node:worker_threads";
import { useBlockingCodecs } from "@pathx/wsi";
import { type BacklogResult, readBacklogSlide } from "./backlog-record";

/**
 * A backlog reader thread: takes lists of slide paths, answers with their records in the same
 * order. A few slides are in flight at once so JPEG decoding (thread pool) overlaps the reads.
 */
const { indexKey, pseudonymKey, concurrency } = workerData as { indexKey: Uint8Array; pseudonymKey?: string; concurrency: number };
const options = { indexKey: Buffer.from(indexKey), pseudonymKey, blockingReads: true };
// This thread reads its own slides: its reads and JPEG work block it, not the shared thread pool.
useBlockingCodecs();

parentPort!.on("message", async ({ id, paths }: { id: number; paths: string[] }) => {
  const results: BacklogResult[] = new Array(paths.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, paths.length) }, async () => {
      while (next < paths.length) {
        const i = next++;
        results[i] = await readBacklogSlide(paths[i]!, options);
      }
    }),
  );
  // The records' bytes are moved to the main thread, not copied.
  parentPort!.postMessage(
    { id, results },
    results.flatMap((r) => ("json" in r ? [r.json.buffer as ArrayBuffer] : [])),
  );
});
