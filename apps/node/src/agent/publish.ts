import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { writeSlideWithout } from "@pathx/wsi";
import type { NodeConfig } from "./config";
import { callHub } from "./hub-client";

export interface PublishInput {
  file: string;
  accessionNumber: string;
  block: string;
  stain: string;
  specimen: string;
  patientPseudonym?: string;
}

type StartAnswer = { kind: "duplicate"; slideId: string } | { kind: "open"; uploadId: string; chunkSize: number; chunkCount: number; received: number[] };

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/**
 * Publishes one slide: the file's SHA-256 names it (the same file twice is one slide, and a
 * stopped upload resumes from the chunks the hub already has), chunks carry their own SHA-256.
 */
export async function publishSlide(
  config: NodeConfig,
  input: PublishInput,
  progress: (done: number, total: number) => void = () => {},
  options: { maxBytesPerSecond?: number } = {},
) {
  // Label and macro show the patient's name: unless the lab's policy shares them, they are
  // removed from a copy here, and only that copy leaves the lab.
  const policy = await callHub<{ shareLabelMacro: boolean }>(config.hub, "/api/node/policy", { method: "GET", credential: config.credential });
  if (policy.shareLabelMacro) return uploadFile(config, input, progress, options);
  const work = await mkdtemp(join(tmpdir(), "pathx-publish-"));
  try {
    const clean = join(work, basename(input.file));
    await writeSlideWithout(input.file, clean, ["label", "macro"]);
    return await uploadFile(config, { ...input, file: clean }, progress, options);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function uploadFile(
  config: NodeConfig,
  input: PublishInput,
  progress: (done: number, total: number) => void,
  options: { maxBytesPerSecond?: number },
) {
  const { size } = await stat(input.file).catch(() => {
    throw new Error(`${input.file}: no such file`);
  });
  const sha256 = await sha256OfFile(input.file);
  const start = await callHub<StartAnswer>(config.hub, "/api/node/uploads", {
    method: "POST",
    credential: config.credential,
    json: {
      fileName: basename(input.file),
      size,
      sha256,
      meta: { accessionNumber: input.accessionNumber, block: input.block, stain: input.stain, specimen: input.specimen, patientPseudonym: input.patientPseudonym },
    },
  });
  if (start.kind === "duplicate") return { slideId: start.slideId, duplicate: true, chunksSent: 0 };
  const handle = await open(input.file, "r");
  let chunksSent = 0;
  try {
    const have = new Set(start.received);
    progress(have.size, start.chunkCount);
    const began = performance.now();
    let bytesSent = 0;
    for (let index = 0; index < start.chunkCount; index++) {
      if (have.has(index)) continue;
      const length = Math.min(start.chunkSize, size - index * start.chunkSize);
      const bytes = Buffer.alloc(length);
      await handle.read(bytes, 0, length, index * start.chunkSize);
      if (options.maxBytesPerSecond) {
        // Bandwidth cap: never get ahead of the allowed average rate.
        const due = ((bytesSent + length) / options.maxBytesPerSecond) * 1000 - (performance.now() - began);
        if (due > 0) await new Promise((r) => setTimeout(r, due));
      }
      await callHub(config.hub, `/api/node/uploads/${start.uploadId}/chunks/${index}`, {
        method: "PUT",
        credential: config.credential,
        body: bytes,
        headers: { "content-type": "application/octet-stream", "x-chunk-sha256": createHash("sha256").update(bytes).digest("hex") },
      });
      chunksSent++;
      bytesSent += length;
      have.add(index);
      progress(have.size, start.chunkCount);
    }
  } finally {
    await handle.close();
  }
  const done = await callHub<{ slideId: string }>(config.hub, `/api/node/uploads/${start.uploadId}/complete`, { method: "POST", credential: config.credential, json: {} });
  return { slideId: done.slideId, duplicate: false, chunksSent };
}
