import { statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import { type NodeAnswer, type NodeRequestBody, nodeRoutes } from "@pathx/protocol";
import { makeThumbnailJpeg, openSlideAt } from "@pathx/wsi";
import type { NodeConfig } from "./config";
import { makeFileRef } from "./file-ref";
import { callHub } from "./hub-client";

/** What the hub keeps of an index-only slide: no pixels beyond a 256-pixel thumbnail, no path. */
export type IndexRecord = NodeRequestBody<"index">["records"][number];
/** A slide's case details, as the hub takes them with an upload or an index record. */
export type SlideMeta = IndexRecord["meta"];
export type IndexAnswer = NodeAnswer<"index">;

/**
 * Reads a slide's directories and smallest image only. The thumbnail is made from the file's
 * own thumbnail or smallest level, never from the label or macro.
 */
export async function buildIndexRecord(key: Buffer, path: string, meta: SlideMeta, options: { blockingReads?: boolean } = {}): Promise<IndexRecord> {
  const info = options.blockingReads ? statSync(path) : await stat(path);
  const slide = await openSlideAt(path, options);
  try {
    const m = slide.metadata;
    const thumbnail = await makeThumbnailJpeg(slide, 256, 80);
    // A DICOM series folder is sent, when ordered, as one instance (see publish.ts).
    const folder = info.isDirectory();
    return {
      ref: makeFileRef(key, path),
      fileName: folder ? `${basename(path)}.dcm` : basename(path),
      size: folder ? m.fileSize : info.size,
      meta,
      image: { width: m.width, height: m.height, mppX: m.mppX, mppY: m.mppY, objectivePower: m.objectivePower, vendor: m.vendor.slice(0, 64) },
      thumbnail: Buffer.from(thumbnail).toString("base64"),
    };
  } finally {
    await slide.close();
  }
}

export function registerIndexRecords(config: NodeConfig, records: IndexRecord[]): Promise<IndexAnswer> {
  return callHub(config.hub, nodeRoutes.index, { credential: config.credential, json: { records } });
}

const batchOpen = Buffer.from('{"records":[');
const batchComma = Buffer.from(",");
const batchClose = Buffer.from("]}");

/** A batch whose records are already UTF-8 JSON (serialised where they were read): concatenated once, not re-encoded. */
export function registerIndexRecordsJson(config: NodeConfig, records: Uint8Array[]): Promise<IndexAnswer> {
  return callHub(config.hub, nodeRoutes.index, {
    credential: config.credential,
    headers: { "content-type": "application/json" },
    body: Buffer.concat([batchOpen, ...records.flatMap((r, i) => (i ? [batchComma, r] : [r])), batchClose]),
  });
}
