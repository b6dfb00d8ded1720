import { Worker } from "node:worker_threads";
import type { BacklogResult } from "./backlog-record";

export interface ReaderPool {
  /** Reads the slides on the least busy thread; results in the order of `paths`. */
  read(paths: string[]): Promise<BacklogResult[]>;
  close(): Promise<void>;
}

/**
 * Threads that read a backlog's slides (directories, thumbnail, sidecar, pseudonym), so every
 * core works while the main thread walks the folders and talks to the hub.
 */
export function createReaderPool(size: number, data: { indexKey: Buffer; pseudonymKey?: string; concurrency: number }): ReaderPool {
  let nextId = 0;
  const threads = Array.from({ length: size }, () => {
    const worker = new Worker(new URL("./backlog-worker.mjs", import.meta.url), {
      workerData: { indexKey: new Uint8Array(data.indexKey), pseudonymKey: data.pseudonymKey, concurrency: data.concurrency },
    });
    const waiting = new Map<number, { resolve: (r: BacklogResult[]) => void; reject: (e: Error) => void }>();
    const failAll = (error: Error) => {
      for (const w of waiting.values()) w.reject(error);
      waiting.clear();
    };
    worker.on("message", ({ id, results }: { id: number; results: BacklogResult[] }) => {
      waiting.get(id)?.resolve(results);
      waiting.delete(id);
    });
    worker.on("error", (error) => failAll(new Error(`a reader thread failed: ${error.message}`)));
    worker.on("exit", (code) => failAll(new Error(`a reader thread stopped (exit code ${code})`)));
    return { worker, waiting };
  });
  return {
    read(paths) {
      const thread = threads.reduce((a, b) => (b.waiting.size < a.waiting.size ? b : a));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        thread.waiting.set(id, { resolve, reject });
        thread.worker.postMessage({ id, paths });
      });
    },
    async close() {
      for (const t of threads) t.worker.removeAllListeners("exit");
      await Promise.all(threads.map((t) => t.worker.terminate()));
    },
  };
}
