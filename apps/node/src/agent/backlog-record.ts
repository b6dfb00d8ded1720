import { type IndexRecord, buildIndexRecord } from "./index-record";
import { readSidecar } from "./sidecar";

/**
 * One walked slide, read: its record as the JSON the hub takes (UTF-8 bytes in a buffer of their
 * own, so a reader thread can hand them over without a copy), or why it cannot be registered.
 */
export type BacklogResult = { path: string; json: Uint8Array; fileName: string } | { path: string; problem: string };

export interface BacklogReadOptions {
  indexKey: Buffer;
  pseudonymKey?: string;
  /** In a worker thread: blocking reads of the sidecar and the slide's directories. */
  blockingReads?: boolean;
}

// TextEncoder, not Buffer.from: a short record would share Buffer's pool, which cannot be transferred alone.
const utf8 = new TextEncoder();

/** Sidecar (patient id pseudonymised here), directories, thumbnail and file reference of one slide. */
export async function readBacklogSlide(path: string, options: BacklogReadOptions): Promise<BacklogResult> {
  try {
    const sidecar = await readSidecar(path, options.pseudonymKey, options);
    if (sidecar.kind !== "ok") return { path, problem: sidecar.kind === "missing" ? "no sidecar .json with its case" : sidecar.reason };
    const record: IndexRecord = await buildIndexRecord(options.indexKey, path, sidecar.meta, options);
    // Serialised and encoded here, in the worker, so the main thread only concatenates a batch's records.
    return { path, json: utf8.encode(JSON.stringify(record)), fileName: record.fileName };
  } catch (error) {
    return { path, problem: (error as Error).message };
  }
}
