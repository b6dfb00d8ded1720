import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import { and, eq, sql } from "drizzle-orm";
import { derivedKeyOf, isPackedThumbnail, labSharesLabelMacro, prepareSlideForViewing, publishSlideChange, storeThumbnail, thumbnailKeyOf } from "@pathx/api";
import { type Db, schema } from "@pathx/db";
import { type ObjectStore, openRangeReader } from "@pathx/storage";
import { type AssociatedName, type Slide, WsiError, encodeJpeg, halveImage, isWsiError, openSlide, writeDerivedPyramid } from "@pathx/wsi";
import { type ServingSource, isServingKey, prepareServingSource } from "./serving-source";

const { slides } = schema;

export interface TileOptions {
  /** The queue job this attempt runs for: a retry of a job whose attempt already finished the slide does nothing. */
  jobId?: string;
  onProgress?: (fraction: number) => void;
}

/**
 * done: this attempt finished the slide. already-done: an earlier attempt of the same job
 * had (its worker died before the queue heard). superseded: a later attempt claimed the slide
 * meanwhile (this one's job had expired), so this one's result was discarded.
 */
export type TileOutcome = "done" | "already-done" | "superseded";

// A file that is not a readable slide fails the same way every time: record it, don't retry.
const permanentCodes = new Set(["NOT_A_TIFF", "UNSUPPORTED_FORMAT", "UNSUPPORTED_COMPRESSION", "CORRUPT", "TRUNCATED", "TOO_LARGE"]);
export const isPermanentSlideError = (error: unknown): error is WsiError => isWsiError(error) && permanentCodes.has(error.code);

/**
 * The background job of a received slide: makes it viewable if it is not yet, then writes
 * what viewing and the lab need besides the source — the thumbnail, the derived pyramid (the
 * Deep Zoom levels the source lacks, ONE object streamed to the store, none when the source
 * has them all) and the private label/macro — and records the result, or the reason it
 * failed in words a lab can act on.
 *
 * Each attempt claims the slide first; its progress and result are written only while the
 * claim is still its own (compare-and-set), so a stale worker whose job expired and was
 * retried elsewhere can neither finish the slide a second time nor overwrite the other's state.
 */
export async function tileSlide(db: Db, store: ObjectStore, slideId: string, options: TileOptions = {}): Promise<TileOutcome> {
  const [found] = await db.select().from(slides).where(eq(slides.id, slideId)).limit(1);
  if (!found) throw new Error(`slide ${slideId} does not exist`);
  if (!found.sourceKey) throw new Error(`slide ${slideId} has no file at the hub yet (index-only)`);
  if (options.jobId && found.status === "ready" && found.progress === 1 && found.tilingClaim?.startsWith(`${options.jobId}:`)) return "already-done";
  const claim = `${options.jobId ?? "direct"}:${randomBytes(6).toString("hex")}`;
  const owned = and(eq(slides.id, slideId), eq(slides.tilingClaim, claim));
  await db.update(slides).set({ tilingClaim: claim, progress: 0, updatedAt: new Date() }).where(eq(slides.id, slideId));
  // Aborted once another attempt has claimed the slide: this one's work would be thrown away.
  const stop = new AbortController();
  let lost = false;
  let slide: Slide | undefined;
  let original: ServingSource["original"];
  const onLost = () => {
    lost = true;
    stop.abort();
  };
  try {
    // A slide only OpenSlide reads gets its serving copy first (a pyramidal TIFF beside the original).
    const converting = createProgressWriter(db, owned, found.labId, slideId, "tiling", (f) => options.onProgress?.(f / 2), onLost);
    const serving = await prepareServingSource(store, found.sourceKey, found.fileName, {
      signal: stop.signal,
      onProgress: converting.report,
      onConverting: async () => {
        await db.transaction(async (tx) => {
          const updated = await tx
            .update(slides)
            .set({ status: "tiling", progress: 0, failureReason: null, updatedAt: new Date() })
            .where(owned)
            .returning({ id: slides.id });
          if (updated.length > 0) await publishSlideChange(tx, { labId: found.labId, slideId, status: "tiling", progress: 0 });
        });
      },
    });
    original = serving.original;
    await converting.settled();
    const share = await labSharesLabelMacro(db, found.labId);
    // A serving copy carries no label or macro: they are stored from the original before the
    // slide points at the copy, and recorded with the switch, so that a run which stops after it
    // (a crash, a lost claim) leaves nothing only the original had.
    const originalPictures = original ? await storePictures(store, slideId, original.slide, share) : undefined;
    if (serving.sourceKey !== found.sourceKey) {
      const { vendor, mppX, mppY, objectivePower } = original!.slide.metadata;
      const swapped = await db
        .update(slides)
        .set({
          sourceKey: serving.sourceKey,
          labelKey: originalPictures?.label ?? null,
          macroKey: originalPictures?.macro ?? null,
          vendor,
          mppX,
          mppY,
          objectivePower,
          updatedAt: new Date(),
        })
        .where(owned)
        .returning({ id: slides.id });
      if (swapped.length === 0) {
        await store.delete(serving.sourceKey).catch(() => {});
        lost = true;
        throw new Error("superseded");
      }
    }
    slide = await openSlide(await openRangeReader(store, serving.sourceKey));
    if (!(await prepareSlideForViewing(db, store, slideId, { asStored: true })))
      throw new WsiError("CORRUPT", `${found.fileName}: the slide could not be opened.`);
    // The serving copy is a plain TIFF: the slide's vendor, MPP and objective are the original's
    // (read now, or kept from the run that made the copy).
    const described = original?.slide.metadata ?? (isServingKey(found.sourceKey) ? found : undefined);
    if (described) {
      const { vendor, mppX, mppY, objectivePower } = described;
      await db.update(slides).set({ vendor, mppX, mppY, objectivePower }).where(owned);
    }
    const [row] = await db.select().from(slides).where(eq(slides.id, slideId)).limit(1);
    const prefix = row!.tilesPrefix!;
    const progress = createProgressWriter(
      db,
      owned,
      row!.labId,
      slideId,
      "ready",
      original ? (f) => options.onProgress?.(0.5 + f / 2) : options.onProgress,
      onLost,
    );

    await writeDerivedObject(store, slide, derivedKeyOf(prefix), { signal: stop.signal, onProgress: progress.report });
    await progress.settled();
    // A slide too large for a quick thumbnail gets it from the smallest derived level.
    let thumbnailKey = row!.thumbnailKey === thumbnailKeyOf(prefix) ? row!.thumbnailKey : undefined;
    if (!thumbnailKey) {
      const derived = (await store.head(derivedKeyOf(prefix))) ? await openSlide(await openRangeReader(store, derivedKeyOf(prefix))) : undefined;
      try {
        thumbnailKey = await storeThumbnail(store, derived ?? slide, prefix);
      } finally {
        await derived?.close();
      }
    }
    options.onProgress?.(1);
    // The pictures of the glass (label, macro) stay private, and only when the lab shares them (a
    // source stored before its lab's policy was enforced at the hub may still carry them). A
    // serving copy has none: a later run on the copy alone keeps what the first one stored.
    const keys: Partial<Record<AssociatedName, string>> =
      originalPictures ??
      (isServingKey(found.sourceKey)
        ? { label: found.labelKey ?? undefined, macro: found.macroKey ?? undefined }
        : await storePictures(store, slideId, slide, share));
    const completed = await db.transaction(async (tx) => {
      const updated = await tx
        .update(slides)
        .set({
          progress: 1,
          thumbnailKey,
          labelKey: keys.label ?? null,
          macroKey: keys.macro ?? null,
          tilingRuns: sql`${slides.tilingRuns} + 1`,
          updatedAt: new Date(),
        })
        .where(and(owned, eq(slides.tilesPrefix, prefix)))
        .returning({ id: slides.id });
      if (updated.length === 0) return false;
      await publishSlideChange(tx, { labId: row!.labId, slideId, status: "ready", progress: 1 });
      return true;
    });
    if (!completed) {
      lost = true;
      throw new Error("superseded");
    }
    // A pyramid of the old kind (one object per tile) and the node's index-only thumbnail are
    // superseded; a thumbnail in a batch's pack shares its object with other slides and stays.
    if (found.tilesPrefix && found.tilesPrefix !== prefix) await store.deletePrefix(`${found.tilesPrefix}/`);
    if (found.thumbnailKey?.startsWith("indexed/") && !isPackedThumbnail(found.thumbnailKey)) await store.delete(found.thumbnailKey).catch(() => {});
    // The original stays beside its serving copy, unless it shows the glass (label, macro) and the
    // lab does not share that: a format the hub cannot strip in place (MRXS) is not kept then.
    if (original && !share && original.slide.metadata.associated.some((a) => a.name === "label" || a.name === "macro"))
      await store.delete(found.sourceKey).catch(() => {});
    return "done";
  } catch (error) {
    if (lost) return "superseded";
    const reason =
      error instanceof WsiError
        ? error.message
        : `preparing the slide failed unexpectedly (${error instanceof Error ? error.message : String(error)}); retry, or report it if it happens again.`;
    await db.transaction(async (tx) => {
      // A damaged or unreadable file fails for good: its tiles cannot be served either. After any
      // other failure a slide already viewable stays viewable (tiles come from the source) and the job is retried.
      const status = isPermanentSlideError(error) ? sql`'failed'` : sql`case when ${slides.status} = 'ready' then ${slides.status} else 'failed' end`;
      const updated = await tx.update(slides).set({ status, failureReason: reason, updatedAt: new Date() }).where(owned).returning({ status: slides.status });
      if (updated[0]?.status === "failed") await publishSlideChange(tx, { labId: found.labId, slideId, status: "failed", failureReason: reason });
    });
    throw error;
  } finally {
    await slide?.close().catch(() => {});
    await original?.close();
  }
}

/**
 * Stores the slide's label and macro (when the lab shares them) and any other associated
 * picture but the scanner's thumbnail, at most 2048 px a side, under `private/<slide>/`.
 */
async function storePictures(store: ObjectStore, slideId: string, slide: Slide, share: boolean): Promise<Partial<Record<AssociatedName, string>>> {
  const keys: Partial<Record<AssociatedName, string>> = {};
  for (const { name } of slide.metadata.associated.filter((a) => a.name !== "thumbnail")) {
    if (!share && (name === "label" || name === "macro")) continue;
    let image = await slide.readAssociated(name);
    while (image.width > 2048 || image.height > 2048) image = halveImage(image);
    keys[name] = `private/${slideId}/${name}.jpg`;
    await store.put(keys[name], await encodeJpeg(image, 85), { contentType: "image/jpeg" });
  }
  return keys;
}

/**
 * Streams the derived pyramid into one object (a multipart upload on S3). Nothing is stored
 * when the source already has every Deep Zoom level: the upload starts with the first chunk.
 */
async function writeDerivedObject(store: ObjectStore, slide: Slide, key: string, options: { signal: AbortSignal; onProgress: (fraction: number) => void }) {
  let stream: PassThrough | undefined;
  let upload: Promise<void> | undefined;
  const write = async (chunk: Uint8Array) => {
    if (!stream) {
      stream = new PassThrough({ highWaterMark: 4 * 1024 * 1024 });
      upload = store.put(key, stream, { contentType: "image/tiff" });
      upload.catch(() => {}); // awaited below; an early failure ends the stream
      stream.once("error", () => {});
    }
    if (!stream.write(chunk))
      await new Promise<void>((resolve, reject) => {
        stream!.once("drain", resolve);
        upload!.then(undefined, reject);
      });
  };
  try {
    await writeDerivedPyramid(slide, write, options);
    stream?.end();
    await upload;
  } catch (error) {
    // An upload cut short stores nothing (the folder store renames a finished file into place,
    // S3 completes a multipart upload only at its end): another attempt's object is left alone.
    stream?.destroy(error as Error);
    await upload?.catch(() => {});
    throw error;
  }
}

/** Progress written at most once a second while the claim is this attempt's; a lost claim stops the work. */
function createProgressWriter(
  db: Db,
  owned: ReturnType<typeof and>,
  labId: string,
  slideId: string,
  status: "tiling" | "ready",
  onProgress: ((fraction: number) => void) | undefined,
  onLost: () => void,
) {
  let lastWrite = 0;
  let writing: Promise<unknown> = Promise.resolve();
  return {
    report(fraction: number) {
      onProgress?.(fraction);
      if (Date.now() - lastWrite <= 1000 || fraction >= 1) return;
      lastWrite = Date.now();
      writing = db
        .transaction(async (tx) => {
          const updated = await tx.update(slides).set({ progress: fraction }).where(owned).returning({ id: slides.id });
          if (updated.length === 0) return false;
          await publishSlideChange(tx, { labId, slideId, status, progress: fraction });
          return true;
        })
        .then(
          (mine) => {
            if (!mine) onLost();
          },
          () => {}, // a missed progress write is only a stale percentage
        );
    },
    settled: () => writing,
  };
}
