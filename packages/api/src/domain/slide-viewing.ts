import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { type ObjectStore, openRangeReader } from "@pathx/storage";
import { type Slide, encodeJpeg, isOpenslideVendorLayout, makeThumbnail, openSlide } from "@pathx/wsi";
import { publishSlideChange } from "../events/topics";

const { slides } = schema;

/** Where a slide's pyramid objects live: `pyramid/<slide>/<version>`; tile URLs name the version. */
const newPyramidPrefix = (slideId: string) => `pyramid/${slideId}/${randomBytes(6).toString("hex")}`;
export const derivedKeyOf = (tilesPrefix: string) => `${tilesPrefix}/derived.tiff`;
export const thumbnailKeyOf = (tilesPrefix: string) => `${tilesPrefix}/thumbnail.jpg`;

/** Writes the slide's 256 px thumbnail under its pyramid prefix (here when cheap, else by the worker). */
export async function storeThumbnail(store: ObjectStore, slide: Slide, prefix: string): Promise<string> {
  const key = thumbnailKeyOf(prefix);
  await store.put(key, await encodeJpeg(await makeThumbnail(slide, 256), 85), { contentType: "image/jpeg" });
  return key;
}

function metadataColumns(slide: Slide) {
  const m = slide.metadata;
  return { width: m.width, height: m.height, mppX: m.mppX, mppY: m.mppY, objectivePower: m.objectivePower, vendor: m.vendor };
}

/**
 * A slide whose source has just been stored becomes viewable at once: its metadata is read
 * (directories only, a few ranged reads) and it is marked ready under a new pyramid version;
 * the tile service serves it from the source from then on. Returns false when the file cannot
 * be read as a slide (the background job records why), or only OpenSlide reads it right (the job
 * rewrites it for serving first, apps/worker serving-source.ts). Called when an upload completes, and
 * by the worker's tiling job (apps/worker) for a slide that is not viewable yet.
 */
export async function prepareSlideForViewing(
  db: Db,
  store: ObjectStore,
  slideId: string,
  /** asStored: the worker's call, once it has made the serving copy it can (none without OpenSlide): serve what is stored. */
  options: { asStored?: boolean } = {},
): Promise<boolean> {
  const [row] = await db.select().from(slides).where(eq(slides.id, slideId)).limit(1);
  if (!row?.sourceKey) return false;
  if (row.status === "ready" && row.tilesPrefix?.startsWith("pyramid/")) return true;
  let slide: Slide;
  try {
    slide = await openSlide(await openRangeReader(store, row.sourceKey));
  } catch {
    return false;
  }
  // A vendor TIFF the native reader only takes generically waits for its serving copy (the worker's job).
  if (!options.asStored && isOpenslideVendorLayout(slide.metadata)) {
    await slide.close();
    return false;
  }
  const prefix = newPyramidPrefix(slideId);
  // The thumbnail too when the file makes it cheaply (its own, or a small level); else the job makes it.
  const thumbnailKey = await storeThumbnail(store, slide, prefix).catch(() => undefined);
  await slide.close();
  await db.transaction(async (tx) => {
    await tx
      .update(slides)
      .set({
        ...metadataColumns(slide),
        status: "ready",
        progress: 0,
        failureReason: null,
        tilesPrefix: prefix,
        ...(thumbnailKey ? { thumbnailKey } : {}),
        updatedAt: new Date(),
      })
      .where(eq(slides.id, slideId));
    await publishSlideChange(tx, { labId: row.labId, slideId, status: "ready", progress: 0 });
  });
  return true;
}
