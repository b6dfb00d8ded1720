import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { type ObjectStore, openRangeReader } from "@pathx/storage";
import { type AssociatedName, WsiError, buildDeepZoom, encodeJpeg, halveImage, openSlide } from "@pathx/wsi";
import { createStoreSink } from "./store-sink";

const { slides } = schema;

/**
 * Tiles one received slide: reads its source from the store with ranged reads, writes a Deep
 * Zoom pyramid under a fresh prefix, keeps the pictures of the glass in a private prefix, and
 * records the result (or the reason it failed, in words a lab can act on) on the slide.
 */
export async function tileSlide(db: Db, store: ObjectStore, slideId: string, onProgress?: (fraction: number) => void): Promise<void> {
  const [row] = await db.select().from(slides).where(eq(slides.id, slideId)).limit(1);
  if (!row) throw new Error(`slide ${slideId} does not exist`);
  if (!row.sourceKey) throw new Error(`slide ${slideId} has no file at the hub yet (index-only)`);
  await db.update(slides).set({ status: "tiling", progress: 0, failureReason: null, updatedAt: new Date() }).where(eq(slides.id, slideId));
  const prefix = `tiles/${slideId}/${randomBytes(6).toString("hex")}`;
  try {
    const slide = await openSlide(await openRangeReader(store, row.sourceKey!));
    let lastWrite = 0;
    await buildDeepZoom(slide, createStoreSink(store, prefix), {
      name: "slide",
      onProgress: ({ tilesWritten, tilesTotal }) => {
        const fraction = tilesWritten / tilesTotal;
        onProgress?.(fraction);
        if (Date.now() - lastWrite > 1000) {
          lastWrite = Date.now();
          void db.update(slides).set({ progress: fraction }).where(eq(slides.id, slideId));
        }
      },
    });
    const keys: Partial<Record<AssociatedName, string>> = {};
    for (const { name } of slide.metadata.associated) {
      let image = await slide.readAssociated(name);
      while (image.width > 2048 || image.height > 2048) image = halveImage(image);
      keys[name] = `private/${slideId}/${name}.jpg`;
      await store.put(keys[name], await encodeJpeg(image, 85), { contentType: "image/jpeg" });
    }
    const m = slide.metadata;
    const previous = row.tilesPrefix;
    await db
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
        updatedAt: new Date(),
      })
      .where(eq(slides.id, slideId));
    await slide.close();
    if (previous && previous !== prefix) await store.deletePrefix(`${previous}/`);
    // The thumbnail the node sent while the slide was index-only is superseded by the pyramid's.
    if (row.thumbnailKey?.startsWith("indexed/")) await store.delete(row.thumbnailKey).catch(() => {});
  } catch (error) {
    await store.deletePrefix(`${prefix}/`).catch(() => {});
    const reason = error instanceof WsiError ? error.message : `tiling failed unexpectedly (${error instanceof Error ? error.message : String(error)}); retry, or report it if it happens again.`;
    await db.update(slides).set({ status: "failed", failureReason: reason, updatedAt: new Date() }).where(eq(slides.id, slideId));
    throw error;
  }
}

/** The largest Deep Zoom level that fits in one tile: the slide's thumbnail, already made. */
export function singleTileLevel(width: number, height: number, tileSize: number): number {
  const longest = Math.max(width, height);
  const top = Math.ceil(Math.log2(longest));
  return top - Math.max(0, Math.ceil(Math.log2(longest / tileSize)));
}
