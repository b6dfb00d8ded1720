import { derivedKeyOf } from "@pathx/api";
import { type ObjectStore, openRangeReader } from "@pathx/storage";
import { type DeepZoomView, type Slide, type TileCache, openDeepZoomView, openSlide } from "@pathx/wsi";
import { type OpenPyramid, type Pyramid, versionOf } from "./pyramids";

/** How often a slide still without its derived pyramid looks for it again. */
const DERIVED_RECHECK_MS = 10_000;

async function openDerived(store: ObjectStore, key: string): Promise<Slide | undefined> {
  if (!(await store.head(key))) return undefined;
  return openSlide(await openRangeReader(store, key));
}

/**
 * A slide served on demand from its source in the object store (ranged reads), through the
 * slide engine: stored JPEG tiles pass through, the other levels come from the derived
 * pyramid once the background job has written it, and are computed until then.
 */
export function engineOpener(cache: TileCache): OpenPyramid {
  return async (store, slideId, record) => {
    if (!record.tilesPrefix.startsWith("pyramid/") || !record.sourceKey) return undefined;
    const version = versionOf(record.tilesPrefix);
    const cacheKey = `${slideId}@${version}`;
    const source = await openSlide(await openRangeReader(store, record.sourceKey));
    const derivedKey = derivedKeyOf(record.tilesPrefix);
    let derived = await openDerived(store, derivedKey);
    let view: DeepZoomView = openDeepZoomView(source, { derived, cache, cacheKey });
    let checkedAt = Date.now();
    let checking = false;
    const recheck = () => {
      if (derived || checking || Date.now() - checkedAt < DERIVED_RECHECK_MS) return;
      checking = true;
      openDerived(store, derivedKey)
        .then((found) => {
          if (!found) return;
          derived = found;
          view = openDeepZoomView(source, { derived, cache, cacheKey });
        })
        .catch(() => {}) // looked for again after the next interval
        .finally(() => {
          checking = false;
          checkedAt = Date.now();
        });
    };
    const pyramid: Pyramid = {
      version,
      dzi: view.dzi,
      format: "jpeg",
      async tile(level, col, row, signal) {
        recheck();
        return (await view.getTile(level, col, row, signal)).bytes;
      },
      peek: (level, col, row) => view.peekTile(level, col, row),
      async close() {
        await Promise.all([source.close(), derived?.close()]).catch(() => {});
      },
    };
    return pyramid;
  };
}
