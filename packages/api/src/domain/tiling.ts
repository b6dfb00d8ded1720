import { randomBytes } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { type ObjectStore, openRangeReader } from "@pathx/storage";
import { type AssociatedName, WsiError, buildDeepZoom, encodeJpeg, halveImage, openSlide } from "@pathx/wsi";
import { publishSlideChange } from "../events/topics";
import { labSharesLabelMacro } from "./lab-policy";
import { createStoreSink } from "./store-sink";

const { slides } = schema;

export interface TileOptions {
  /** The queue job this attempt runs for: a retry of a job whose attempt already finished the slide does nothing. */
  jobId?: string;
  onProgress?: (fraction: number) => void;
}

/**
 * done: this attempt made the slide ready. already-done: an earlier attempt of the same job
 * had (its worker died before the queue heard). superseded: a later attempt claimed the slide
 * meanwhile (this one's job had expired), so this one's result was discarded.
 */
export type TileOutcome = "done" | "already-done" | "superseded";

/**
 * Tiles one received slide: reads its source from the store with ranged reads, writes a Deep
 * Zoom pyramid under a fresh prefix, keeps the pictures of the glass in a private prefix, and
 * records the result (or the reason it failed, in words a lab can act on) on the slide.
 *
 * Each attempt claims the slide first; its progress, result and failure are written only while
 * the claim is still its own (compare-and-set), so a stale worker whose job expired and was
 * retried elsewhere can neither finish the slide a second time nor overwrite the other's state.
 */
export async function tileSlide(db: Db, store: ObjectStore, slideId: string, options: TileOptions = {}): Promise<TileOutcome> {
  const [row] = await db.select().from(slides).where(eq(slides.id, slideId)).limit(1);
  if (!row) throw new Error(`slide ${slideId} does not exist`);
  if (!row.sourceKey) throw new Error(`slide ${slideId} has no file at the hub yet (index-only)`);
  if (options.jobId && row.status === "ready" && row.tilingClaim?.startsWith(`${options.jobId}:`)) return "already-done";
  const claim = `${options.jobId ?? "direct"}:${randomBytes(6).toString("hex")}`;
  const owned = and(eq(slides.id, slideId), eq(slides.tilingClaim, claim));
  await db.transaction(async (tx) => {
    await tx.update(slides).set({ status: "tiling", progress: 0, failureReason: null, tilingClaim: claim, updatedAt: new Date() }).where(eq(slides.id, slideId));
    await publishSlideChange(tx, { labId: row.labId, slideId, status: "tiling", progress: 0 });
  });
  const prefix = `tiles/${slideId}/${randomBytes(6).toString("hex")}`;
  // Aborted once another attempt has claimed the slide: this one's work would be thrown away.
  const stop = new AbortController();
  let lost = false;
  try {
    const slide = await openSlide(await openRangeReader(store, row.sourceKey!));
    let lastWrite = 0;
    let writing: Promise<unknown> = Promise.resolve();
    await buildDeepZoom(slide, createStoreSink(store, prefix), {
      name: "slide",
      signal: stop.signal,
      onProgress: ({ tilesWritten, tilesTotal }) => {
        const fraction = tilesWritten / tilesTotal;
        options.onProgress?.(fraction);
        if (Date.now() - lastWrite > 1000 && fraction < 1) {
          lastWrite = Date.now();
          writing = db
            .transaction(async (tx) => {
              const updated = await tx.update(slides).set({ progress: fraction }).where(owned).returning({ id: slides.id });
              if (updated.length === 0) return false;
              await publishSlideChange(tx, { labId: row.labId, slideId, status: "tiling", progress: fraction });
              return true;
            })
            .then(
              (mine) => {
                if (!mine) {
                  lost = true;
                  stop.abort();
                }
              },
              () => {}, // a missed progress write is only a stale percentage
            );
        }
      },
    });
    await writing;
    const keys: Partial<Record<AssociatedName, string>> = {};
    // A source stored before its lab's policy was enforced at the hub may still carry them.
    const share = await labSharesLabelMacro(db, row.labId);
    for (const { name } of slide.metadata.associated) {
      if (!share && (name === "label" || name === "macro")) continue;
      let image = await slide.readAssociated(name);
      while (image.width > 2048 || image.height > 2048) image = halveImage(image);
      keys[name] = `private/${slideId}/${name}.jpg`;
      await store.put(keys[name], await encodeJpeg(image, 85), { contentType: "image/jpeg" });
    }
    const m = slide.metadata;
    const previous = row.tilesPrefix;
    const completed = await db.transaction(async (tx) => {
      const updated = await tx
        .update(slides)
        .set({
          status: "ready",
          progress: 1,
          width: m.width,
          height: m.height,
          mppX: m.mppX,
          mppY: m.mppY,
          objectivePower: m.objectivePower,
          vendor: m.vendor,
          tilesPrefix: prefix,
          thumbnailKey: `${prefix}/slide_files/${singleTileLevel(m.width, m.height, 254)}/0_0.jpeg`,
          labelKey: keys.label ?? null,
          macroKey: keys.macro ?? null,
          tilingRuns: sql`${slides.tilingRuns} + 1`,
          updatedAt: new Date(),
        })
        .where(and(owned, eq(slides.status, "tiling")))
        .returning({ id: slides.id });
      if (updated.length === 0) return false;
      await publishSlideChange(tx, { labId: row.labId, slideId, status: "ready", progress: 1 });
      return true;
    });
    await slide.close();
    if (!completed) {
      lost = true;
      throw new Error("superseded");
    }
    if (previous && previous !== prefix) await store.deletePrefix(`${previous}/`);
    // The thumbnail the node sent while the slide was index-only is superseded by the pyramid's.
    if (row.thumbnailKey?.startsWith("indexed/")) await store.delete(row.thumbnailKey).catch(() => {});
    return "done";
  } catch (error) {
    await store.deletePrefix(`${prefix}/`).catch(() => {});
    if (lost) return "superseded";
    const reason = error instanceof WsiError ? error.message : `tiling failed unexpectedly (${error instanceof Error ? error.message : String(error)}); retry, or report it if it happens again.`;
    await db.transaction(async (tx) => {
      const updated = await tx.update(slides).set({ status: "failed", failureReason: reason, updatedAt: new Date() }).where(owned).returning({ id: slides.id });
      if (updated.length > 0) await publishSlideChange(tx, { labId: row.labId, slideId, status: "failed", failureReason: reason });
    });
    throw error;
  }
}

/** The largest Deep Zoom level that fits in one tile: the slide's thumbnail, already made. */
export function singleTileLevel(width: number, height: number, tileSize: number): number {
  const longest = Math.max(width, height);
  const top = Math.ceil(Math.log2(longest));
  return top - Math.max(0, Math.ceil(Math.log2(longest / tileSize)));
}
