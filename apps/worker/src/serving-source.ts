import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { type ObjectStore, openRangeReader } from "@pathx/storage";
import { type Slide, isSlideArchive, isOpenslideVendorLayout, isWsiError, openSlide, openSlideAt, unpackSlideArchive, writeServingTiff } from "@pathx/wsi";

/** The serving copy of a source sits beside it: `<source>.serving-<hex>.tiff`. */
const SERVING = /\.serving-[0-9a-f]{12}\.tiff$/;
export const isServingKey = (key: string) => SERVING.test(key);
export const originalKeyOf = (servingKey: string) => servingKey.replace(SERVING, "");

export interface ServingSource {
  /** The source the tile service and the worker read by ranges: the stored one, or its serving copy. */
  sourceKey: string;
  /** Set when a serving copy was made: the original as OpenSlide reads it (label, macro, MPP, vendor), open in a work folder. */
  original?: { slide: Slide; close(): Promise<void> };
}

/**
 * The tile service and the worker read a slide by byte ranges from the store with the native
 * readers. A slide only OpenSlide reads (MRXS and Hamamatsu VMS, each stored as one archive of its files; Leica SCN, Ventana BIF, Philips TIFF: OpenSlide
 * needs a local file, and a vendor TIFF read generically comes out wrong) is downloaded once
 * into a work folder, rewritten as one tiled pyramidal TIFF (`writeServingTiff`) and stored
 * beside the original, which stays: the returned key is the one to serve from. Any other slide
 * is served as it is, and so is a vendor TIFF where OpenSlide is not installed (read generically,
 * as before). A file neither reads fails with the native reader's reason.
 */
export async function prepareServingSource(
  store: ObjectStore,
  sourceKey: string,
  fileName: string,
  options: { signal?: AbortSignal; onProgress?: (fraction: number) => void; onConverting?: () => Promise<void> } = {},
): Promise<ServingSource> {
  let nativeError: unknown;
  try {
    const native = await openSlide(await openRangeReader(store, sourceKey));
    const vendor = isOpenslideVendorLayout(native.metadata);
    await native.close();
    if (!vendor) return { sourceKey };
  } catch (error) {
    if (!isWsiError(error)) throw error;
    nativeError = error;
  }
  const work = await mkdtemp(join(tmpdir(), "pathx-serving-"));
  const cleanUp = () => rm(work, { recursive: true, force: true });
  let slide: Slide | undefined;
  try {
    // OpenSlide tells some vendors by the file's extension: keep the uploaded name.
    const local = join(work, fileName.replace(/[^\w.-]+/g, "_") || "slide");
    await pipeline(await store.getStream(sourceKey), createWriteStream(local));
    // An MRXS or VMS slide is stored as one archive of its files: OpenSlide wants them unpacked.
    let path = local;
    if (isSlideArchive(fileName)) {
      path = await unpackSlideArchive(local, join(work, "slide"));
      await rm(local, { force: true });
    }
    // For an archive, OpenSlide's reason (e.g. not installed) says more than the byte reader's.
    slide = await openSlideAt(path).catch((error: unknown) => {
      throw isSlideArchive(fileName) ? error : (nativeError ?? error);
    });
    if (slide.metadata.format !== "openslide") {
      await slide.close();
      await cleanUp();
      if (nativeError) throw nativeError;
      return { sourceKey };
    }
    await options.onConverting?.();
    const servingPath = join(work, "serving.tiff");
    await writeServingTiff(slide, servingPath, { signal: options.signal, onProgress: options.onProgress });
    const servingKey = `${sourceKey}.serving-${randomBytes(6).toString("hex")}.tiff`;
    await store.put(servingKey, createReadStream(servingPath), { contentType: "image/tiff" });
    await rm(servingPath, { force: true });
    const opened = slide;
    return {
      sourceKey: servingKey,
      original: {
        slide: opened,
        async close() {
          await opened.close().catch(() => {});
          await cleanUp();
        },
      },
    };
  } catch (error) {
    await slide?.close().catch(() => {});
    await cleanUp();
    throw error;
  }
}
