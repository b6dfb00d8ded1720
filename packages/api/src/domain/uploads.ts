import { createHash, randomUUID } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import type { ObjectStore } from "@pathx/storage";
import { type UploadMeta, type UploadState, uploadMetaInput, uploadStartInput } from "@pathx/protocol";
import {
  checkSlideArchiveHeader,
  checkSlideHeader,
  isSlideArchive,
  isWsiError,
  openSlideAt,
  unpackSlideArchive,
  writeSlideArchive,
  writeSlideWithout,
} from "@pathx/wsi";
import { ApiError, notFound } from "../errors";
import { prepareSlideForViewing } from "./slide-viewing";
import { publishSlideChange } from "../events/topics";
import { isUuid } from "../http/ids";
import { labSharesLabelMacro } from "./lab-policy";

const { uploads, slides, cases } = schema;
export const CHUNK_SIZE = 8 * 1024 * 1024;
const MAX_SIZE = 100 * 1024 ** 3;
/** A completion claimed this long ago is taken as its hub's crash, and may be claimed again. */
const COMPLETION_LEASE_MS = 30 * 60 * 1000;
export const SLIDE_FILE = /\.(svs|tif|tiff|btf|ndpi|dcm|mrxs\.tar|vms\.tar)$/i;

// What starting an upload takes is part of the node protocol (@pathx/protocol): browsers (tRPC)
// and lab nodes (HTTP) are checked by the same schema.
export { uploadMetaInput, uploadStartInput, type UploadMeta, type UploadState };

/** A browser upload carries no patient link at all: the slide stays unlinked (only a lab's node pseudonymises). */
export const browserUploadStartInput = uploadStartInput.extend({ meta: uploadMetaInput.omit({ patientPseudonym: true }).strict() });

function chunkCount(size: number, chunkSize: number) {
  return Math.max(1, Math.ceil(size / chunkSize));
}

function receivedList(bitmap: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < bitmap.length; i++) if (bitmap[i] === "1") out.push(i);
  return out;
}

/**
 * Starts an upload, or finds the one to resume: the same file (by SHA-256) for the same lab
 * continues where it stopped; a file the lab already has is not uploaded again.
 */
export async function startUpload(
  db: Db,
  labId: string,
  userId: string | null,
  input: { fileName: string; size: number; sha256: string; meta: UploadMeta; header?: string },
  nodeId?: string,
  /** Set when a node sends an index-only slide's file on the hub's order: the upload fills that slide. */
  forSlideId?: string,
): Promise<UploadState> {
  const sha256 = input.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) throw new ApiError("BAD_REQUEST", "The file's SHA-256 must be 64 hexadecimal characters.");
  if (!SLIDE_FILE.test(input.fileName)) throw new ApiError("BAD_REQUEST", `${input.fileName} is not a slide file: upload an .svs, .tif or .tiff file.`);
  // A DICOM header names the patient: only a lab node's de-identified copy may come in.
  if (/\.dcm$/i.test(input.fileName) && !nodeId) {
    throw new ApiError(
      "BAD_REQUEST",
      `${input.fileName}: publish DICOM slides with the lab's node (pathx node publish), which removes the patient's identity from the file.`,
    );
  }
  if (!Number.isSafeInteger(input.size) || input.size < 16 || input.size > MAX_SIZE)
    throw new ApiError("BAD_REQUEST", "The file is empty or larger than 100 GB.");
  if (!forSlideId && !input.meta.accessionNumber.trim()) throw new ApiError("BAD_REQUEST", "Give the case's accession number.");
  if (input.header !== undefined) {
    const head = Buffer.from(input.header, "base64");
    // An MRXS or VMS slide arrives as one archive of its files (packed by the node).
    const refused = isSlideArchive(input.fileName) ? checkSlideArchiveHeader(head, input.fileName) : await checkSlideHeader(head, input.size, input.fileName);
    // The engine's message starts with the file's name already.
    if (refused) throw new ApiError("BAD_REQUEST", `${input.fileName} cannot be taken: ${refused.message.replace(`${input.fileName}: `, "")}`);
  }
  if (!forSlideId) {
    const [existingSlide] = await db
      .select({ id: slides.id })
      .from(slides)
      .where(and(eq(slides.labId, labId), eq(slides.sha256, sha256)))
      .limit(1);
    if (existingSlide) return { kind: "duplicate", slideId: existingSlide.id };
  }
  const [open] = await db
    .select()
    .from(uploads)
    .where(and(eq(uploads.labId, labId), eq(uploads.sha256, sha256), eq(uploads.status, "open")))
    .limit(1);
  if (open && open.sizeBytes === input.size && (open.slideId ?? undefined) === forSlideId) {
    return { kind: "open", uploadId: open.id, chunkSize: open.chunkSize, chunkCount: open.receivedChunks.length, received: receivedList(open.receivedChunks) };
  }
  const count = chunkCount(input.size, CHUNK_SIZE);
  const [created] = await db
    .insert(uploads)
    .values({
      labId,
      userId,
      nodeId,
      slideId: forSlideId,
      fileName: input.fileName,
      sizeBytes: input.size,
      sha256,
      chunkSize: CHUNK_SIZE,
      receivedChunks: "0".repeat(count),
      meta: input.meta,
    })
    .returning();
  return { kind: "open", uploadId: created!.id, chunkSize: CHUNK_SIZE, chunkCount: count, received: [] };
}

async function findOpenUpload(db: Db, labId: string, uploadId: string) {
  if (!isUuid(uploadId)) throw notFound("Upload");
  const [row] = await db
    .select()
    .from(uploads)
    .where(and(eq(uploads.labId, labId), eq(uploads.id, uploadId)))
    .limit(1);
  if (!row) throw notFound("Upload");
  return row;
}

/**
 * How many bytes chunk `index` of an open upload must have: asked before its body is read, so an
 * unknown upload, a finished one or a chunk that does not exist is refused without reading.
 */
export async function expectChunk(db: Db, labId: string, uploadId: string, index: number): Promise<number> {
  const upload = await findOpenUpload(db, labId, uploadId);
  return expectedChunkBytes(upload, index);
}

function expectedChunkBytes(upload: { status: string; receivedChunks: string; sizeBytes: number; chunkSize: number }, index: number) {
  if (upload.status !== "open") throw new ApiError("CONFLICT", "This upload is already finished.");
  const count = upload.receivedChunks.length;
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new ApiError("BAD_REQUEST", `Chunk ${index} does not exist (the file has ${count}).`);
  return index === count - 1 ? upload.sizeBytes - index * upload.chunkSize : upload.chunkSize;
}

/** Stores one chunk after checking its length and SHA-256; sending a chunk twice is harmless. */
export async function receiveChunk(db: Db, store: ObjectStore, labId: string, uploadId: string, index: number, bytes: Uint8Array, sha256: string) {
  const upload = await findOpenUpload(db, labId, uploadId);
  const expected = expectedChunkBytes(upload, index);
  if (bytes.length !== expected) throw new ApiError("BAD_REQUEST", `Chunk ${index} has ${bytes.length} bytes; ${expected} expected. Send it again.`);
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== sha256.toLowerCase()) throw new ApiError("DAMAGED", `Chunk ${index} arrived damaged (checksum mismatch). Send it again.`);
  await store.put(`uploads/${uploadId}/${index}`, bytes);
  // One character flipped in SQL, so concurrent chunks never overwrite each other's marks.
  await db
    .update(uploads)
    .set({ receivedChunks: sql`overlay(${uploads.receivedChunks} placing '1' from ${index + 1} for 1)`, updatedAt: new Date() })
    .where(eq(uploads.id, uploadId));
}

/**
 * Joins the chunks into the slide's source object while checking the whole file's SHA-256,
 * registers the slide under its case, and hands it to tiling. Completing twice is harmless.
 */
export async function completeUpload(db: Db, store: ObjectStore, enqueue: (slideId: string) => Promise<void>, labId: string, uploadId: string) {
  const upload = await findOpenUpload(db, labId, uploadId);
  if (upload.status === "complete" && upload.slideId) return { slideId: upload.slideId };
  const missing = upload.receivedChunks.length - receivedList(upload.receivedChunks).length;
  if (missing > 0) throw new ApiError("CONFLICT", `${missing} chunk(s) have not arrived yet; resume the upload.`);
  // One completion at a time, claimed by a compare-and-set: the others answer calmly.
  const [claimed] = await db
    .update(uploads)
    .set({ completingAt: new Date() })
    .where(
      and(
        eq(uploads.id, uploadId),
        eq(uploads.status, "open"),
        or(isNull(uploads.completingAt), lt(uploads.completingAt, new Date(Date.now() - COMPLETION_LEASE_MS))),
      ),
    )
    .returning({ id: uploads.id });
  if (!claimed) {
    const [now] = await db.select({ status: uploads.status, slideId: uploads.slideId }).from(uploads).where(eq(uploads.id, uploadId));
    if (now?.status === "complete" && now.slideId) return { slideId: now.slideId };
    throw new ApiError("CONFLICT", "This upload is being completed by another request; ask again in a moment.");
  }
  try {
    return await joinAndRegister(db, store, enqueue, labId, upload);
  } catch (error) {
    await db.update(uploads).set({ completingAt: null }).where(eq(uploads.id, uploadId));
    throw error;
  }
}

/**
 * The slide at `path` with its label and macro removed, as a file path. A DICOM instance holds one
 * image (label and overview are instances of their own), so a volume instance has nothing to remove.
 */
async function withoutLabelAndMacro(path: string, destination: string, fileName: string): Promise<string> {
  if (isSlideArchive(fileName)) {
    // Unpacked beside it, and packed again without them (MRXS: their bytes zeroed, their names changed; VMS: the macro left out).
    const work = await mkdtemp(`${destination}-unpacked-`);
    const slide = await unpackSlideArchive(path, work);
    await writeSlideArchive(slide, destination, { without: ["label", "macro"] });
    await rm(work, { recursive: true, force: true });
    return destination;
  }
  const slide = await openSlideAt(path);
  const format = slide.metadata.format;
  await slide.close();
  if (format === "dicom") return path;
  await writeSlideWithout(path, destination, ["label", "macro"]);
  return destination;
}

async function joinAndRegister(db: Db, store: ObjectStore, enqueue: (slideId: string) => Promise<void>, labId: string, upload: typeof uploads.$inferSelect) {
  const uploadId = upload.id;
  const hash = createHash("sha256");
  const count = upload.receivedChunks.length;
  async function* joined() {
    for (let i = 0; i < count; i++) {
      const chunk = await store.get(`uploads/${uploadId}/${i}`);
      hash.update(chunk);
      yield chunk;
    }
  }
  const sourceKey = `sources/${labId}/${uploadId}/${upload.fileName.replace(/[^\w.-]+/g, "_")}`;
  // The lab's policy holds on every path, not only at its node: unless it shares them, label and
  // macro are removed before the source is stored (joined on local disk first, then stripped).
  const share = await labSharesLabelMacro(db, labId);
  const work = share ? undefined : await mkdtemp(join(tmpdir(), "pathx-upload-"));
  try {
    if (work) await pipeline(Readable.from(joined()), createWriteStream(join(work, "joined")));
    else await store.put(sourceKey, Readable.from(joined()));
    if (hash.digest("hex") !== upload.sha256) {
      if (!work) await store.delete(sourceKey);
      await store.deletePrefix(`uploads/${uploadId}/`);
      await db
        .update(uploads)
        .set({ receivedChunks: "0".repeat(count), updatedAt: new Date() })
        .where(eq(uploads.id, uploadId));
      throw new ApiError("DAMAGED", "The assembled file does not match its checksum; it was discarded. Upload the file again.");
    }
    if (work) {
      const clean = await withoutLabelAndMacro(join(work, "joined"), join(work, "clean"), upload.fileName).catch((error: unknown) => {
        if (isWsiError(error))
          throw new ApiError(
            "BAD_REQUEST",
            `${upload.fileName} is not a slide the hub can read, so it was not stored: upload an Aperio .svs, Hamamatsu .ndpi, DICOM WSI .dcm, pyramidal .tif, OME-TIFF, a vendor TIFF OpenSlide reads, or an MRXS slide through the lab's node.`,
          );
        throw error;
      });
      await store.put(sourceKey, createReadStream(clean));
    }
  } finally {
    if (work) await rm(work, { recursive: true, force: true });
  }
  if (upload.slideId) {
    await attachFetchedFile(db, labId, upload.slideId, { uploadId, sourceKey, sha256: upload.sha256, sizeBytes: upload.sizeBytes });
    await prepareSlideForViewing(db, store, upload.slideId);
    await enqueue(upload.slideId);
    await store.deletePrefix(`uploads/${uploadId}/`);
    return { slideId: upload.slideId };
  }
  const meta = upload.meta as UploadMeta;
  const slideId = await db.transaction(async (tx) => {
    await tx
      .insert(cases)
      .values({
        labId,
        accessionNumber: meta.accessionNumber.trim(),
        patientPseudonym: meta.patientPseudonym?.trim() || `unlinked-${randomUUID()}`,
        specimen: meta.specimen ?? "",
        receivedAt: new Date(),
      })
      .onConflictDoNothing();
    const [kase] = await tx
      .select({ id: cases.id })
      .from(cases)
      .where(and(eq(cases.labId, labId), eq(cases.accessionNumber, meta.accessionNumber.trim())));
    const [slide] = await tx
      .insert(slides)
      .values({
        labId,
        caseId: kase!.id,
        block: meta.block ?? "",
        stain: meta.stain ?? "",
        fileName: upload.fileName,
        sizeBytes: upload.sizeBytes,
        sha256: upload.sha256,
        sourceKey,
        publishedByNodeId: upload.nodeId,
      })
      .returning({ id: slides.id });
    await tx.update(uploads).set({ status: "complete", slideId: slide!.id, updatedAt: new Date() }).where(eq(uploads.id, uploadId));
    await publishSlideChange(tx, { labId, slideId: slide!.id, status: "received" });
    return slide!.id;
  });
  // Viewable the moment its source is stored; the background job adds the derived pyramid and thumbnail.
  await prepareSlideForViewing(db, store, slideId);
  await enqueue(slideId);
  await store.deletePrefix(`uploads/${uploadId}/`);
  return { slideId };
}

/** An index-only slide's file arrived on the hub's order: the slide now has its source and goes to tiling. */
async function attachFetchedFile(db: Db, labId: string, slideId: string, file: { uploadId: string; sourceKey: string; sha256: string; sizeBytes: number }) {
  await db.transaction(async (tx) => {
    // The lab may also hold this very file as a published slide; the checksum stays with that one.
    const [twin] = await tx
      .select({ id: slides.id })
      .from(slides)
      .where(and(eq(slides.labId, labId), eq(slides.sha256, file.sha256)))
      .limit(1);
    await tx
      .update(slides)
      .set({
        status: "received",
        progress: 0,
        failureReason: null,
        sourceKey: file.sourceKey,
        sizeBytes: file.sizeBytes,
        sha256: twin ? null : file.sha256,
        updatedAt: new Date(),
      })
      .where(and(eq(slides.labId, labId), eq(slides.id, slideId)));
    await tx.update(schema.fetchOrders).set({ status: "done", finishedAt: new Date(), error: null }).where(eq(schema.fetchOrders.slideId, slideId));
    await tx.update(uploads).set({ status: "complete", updatedAt: new Date() }).where(eq(uploads.id, file.uploadId));
    await publishSlideChange(tx, { labId, slideId, status: "received" });
  });
}
