import { type IndexRecord, buildIndexRecord } from "./index-record";
import { readSidecar } from "./sidecar";

/** One walked slide, read: its record as the JSON the hub takes, or why it cannot be registered. */
export type BacklogResult = { path: string; json: string; fileName: string } | { path: string; problem: string };

export interface BacklogReadOptions {
  indexKey: Buffer;
  pseudonymKey?: string;
  /** In a worker thread: blocking reads of the sidecar and the slide's directories. */
  blockingReads?: boolean;
}

/** Sidecar (patient id pseudonymised here), directories, thumbnail and file reference of one slide. */
export async function readBacklogSlide(path: string, options: BacklogReadOptions): Promise<BacklogResult> {
  try {
    const sidecar = await readSidecar(path, options.pseudonymKey, options);
    if (sidecar.kind !== "ok") return { path, problem: sidecar.kind === "missing" ? "no sidecar .json with its case" : sidecar.reason };
    const record: IndexRecord = await buildIndexRecord(options.indexKey, path, sidecar.meta, options);
    // Serialised here, in the worker, so the main thread only joins a batch's records.
    return { path, json: JSON.stringify(record), fileName: record.fileName };
  } catch (error) {
    return { path, problem: (error as Error).message };
  }
}
