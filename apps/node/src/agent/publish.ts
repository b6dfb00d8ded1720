import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdtemp, open, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { CHUNK_SHA256_HEADER, nodeRoutes } from "@pathx/protocol";
import { isArchivedSlideFile, openSlideAt, writeDicomSeries, writeSlideArchive, writeSlideWithout } from "@pathx/wsi";
import type { NodeConfig } from "./config";
import { HubError, callHub, hubAnswerSeconds } from "./hub-client";
import type { SlideMeta } from "./index-record";

/** A slow object store's pace for the hub joining and hashing an upload's chunks. */
const JOIN_BYTES_PER_SECOND = 16 * 1024 * 1024;

export interface PublishInput extends SlideMeta {
  file: string;
}

export interface UploadOptions {
  maxBytesPerSecond?: number;
  /** The hub's order this upload answers: the file of an index-only slide it registered earlier. */
  orderId?: string;
}

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
  options: UploadOptions = {},
) {
  // Label and macro show the patient's name: unless the lab's policy shares them, they are
  // removed from a copy here, and only that copy leaves the lab.
  const policy = await callHub(config.hub, nodeRoutes.policy, { credential: config.credential });
  if (isArchivedSlideFile(input.file)) return publishArchive(config, input, policy.shareLabelMacro, progress, options);
  if (await isDicomSlide(input.file)) return publishDicom(config, input, progress, options);
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

async function isDicomSlide(path: string): Promise<boolean> {
  if ((await stat(path).catch(() => undefined))?.isDirectory()) return true; // a DICOM series folder
  const slide = await openSlideAt(path);
  const format = slide.metadata.format;
  await slide.close();
  return format === "dicom";
}

/**
 * An MRXS slide is the .mrxs file plus its folder, a Hamamatsu VMS slide the .vms file plus the
 * JPEGs it names: either travels as one archive (packed the same way each time, so a stopped
 * upload resumes), without label and macro unless the lab shares them.
 */
async function publishArchive(
  config: NodeConfig,
  input: PublishInput,
  shareLabelMacro: boolean,
  progress: (done: number, total: number) => void,
  options: UploadOptions,
) {
  const work = await mkdtemp(join(tmpdir(), "pathx-publish-"));
  try {
    const file = join(work, `${basename(input.file)}.tar`);
    await writeSlideArchive(input.file, file, { without: shareLabelMacro ? [] : ["label", "macro"] });
    return await uploadFile(config, { ...input, file }, progress, options);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * A DICOM header names the patient, the institution, the operators: the file never leaves the
 * lab as scanned. The node writes its full-resolution level anew (JPEG frames copied, the
 * patient only as the pseudonym) as one instance, and uploads that; the hub builds the lower
 * levels. Label and overview instances stay in the lab. UIDs and dates derive from the source,
 * so publishing the same slide twice sends the same bytes (idempotent, resumable).
 */
async function publishDicom(config: NodeConfig, input: PublishInput, progress: (done: number, total: number) => void, options: UploadOptions) {
  const work = await mkdtemp(join(tmpdir(), "pathx-publish-"));
  try {
    const file = await writeDicomForUpload(input, work);
    return await uploadFile(config, { ...input, file }, progress, options);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The de-identified single instance that stands for a DICOM slide or series folder, written into `work`. */
export async function writeDicomForUpload(input: PublishInput, work: string): Promise<string> {
  const slide = await openSlideAt(input.file);
  let written: string;
  try {
    const { mtime } = await stat(input.file);
    const source = slide.metadata.properties["dicom.SeriesInstanceUID"] ?? slide.metadata.name;
    // The case details travel beside the file, not in it: publishing again with other details
    // is still the same file. The container id is derived, never the file or folder name
    // (a lab may name those after the patient).
    const result = await writeDicomSeries(slide, work, {
      patientPseudonym: input.patientPseudonym,
      containerId: `SLIDE-${createHash("sha256").update(source).digest("hex").slice(0, 16)}`,
      baseOnly: true,
      uidSeed: `${source}|${input.patientPseudonym ?? ""}`,
      createdAt: mtime,
    });
    written = result.files[0]!;
  } finally {
    await slide.close();
  }
  const file = join(work, `${basename(input.file).replace(/\.dcm$/i, "")}.dcm`);
  await rename(written, file);
  return file;
}

async function uploadFile(config: NodeConfig, input: PublishInput, progress: (done: number, total: number) => void, options: UploadOptions) {
  const { size } = await stat(input.file).catch(() => {
    throw new Error(`${input.file}: no such file`);
  });
  const sha256 = await sha256OfFile(input.file);
  const handle = await open(input.file, "r");
  let chunksSent = 0;
  const began = performance.now();
  let bytesSent = 0;
  try {
    // Rounds: the hub says which chunks it holds; the node sends the rest and completes. Should
    // the hub lose chunks (a crash before they were recorded) or find the joined file damaged,
    // it refuses completion (409/422) and the next round sends what is missing.
    for (let round = 1; ; round++) {
      const start = await callHub(config.hub, nodeRoutes.startUpload, {
        credential: config.credential,
        json: {
          fileName: basename(input.file),
          size,
          sha256,
          meta: {
            accessionNumber: input.accessionNumber,
            block: input.block,
            stain: input.stain,
            specimen: input.specimen,
            patientPseudonym: input.patientPseudonym,
          },
          orderId: options.orderId,
        },
      });
      if (start.kind === "duplicate") return { slideId: start.slideId, duplicate: true, chunksSent };
      const have = new Set(start.received);
      progress(have.size, start.chunkCount);
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
        await sendChunk(config, start.uploadId, index, bytes);
        chunksSent++;
        bytesSent += length;
        have.add(index);
        progress(have.size, start.chunkCount);
      }
      try {
        // The hub joins and hashes the whole file before it answers: allow for that at a slow store's pace.
        const answerSeconds = hubAnswerSeconds() + size / JOIN_BYTES_PER_SECOND;
        const done = await callHub(config.hub, nodeRoutes.completeUpload, {
          params: { uploadId: start.uploadId },
          credential: config.credential,
          json: {},
          answerSeconds,
        });
        return { slideId: done.slideId, duplicate: false, chunksSent };
      } catch (error) {
        if (!(error instanceof HubError && (error.hubCode === "CONFLICT" || error.hubCode === "DAMAGED")) || round >= 3) throw error;
      }
    }
  } finally {
    await handle.close();
  }
}

/** Sends one chunk; one the hub received damaged (422, checksum mismatch) is sent again. */
async function sendChunk(config: NodeConfig, uploadId: string, index: number, bytes: Buffer, attempts = 3) {
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  for (let attempt = 1; ; attempt++) {
    try {
      return await callHub(config.hub, nodeRoutes.sendChunk, {
        params: { uploadId, index },
        credential: config.credential,
        body: bytes,
        headers: { "content-type": "application/octet-stream", [CHUNK_SHA256_HEADER]: sha256 },
      });
    } catch (error) {
      if (!(error instanceof HubError && error.hubCode === "DAMAGED") || attempt >= attempts) throw error;
    }
  }
}
