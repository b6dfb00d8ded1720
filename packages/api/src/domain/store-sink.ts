import type { ObjectStore } from "@pathx/storage";
import type { PyramidInfo, TileSink } from "@pathx/wsi";

/**
 * A Deep Zoom sink into the object store: tiles go under `<prefix>/slide_files/…`, the `.dzi`
 * is written last, so a pyramid without its `.dzi` is never served. Each attempt writes its
 * own prefix; the caller points the slide at it only after commit.
 */
export function createStoreSink(store: ObjectStore, prefix: string, options: { concurrency?: number } = {}): TileSink {
  let info: PyramidInfo | undefined;
  let active = 0;
  const waiting: (() => void)[] = [];
  const max = options.concurrency ?? 16;
  const contentType = () => (info!.format === "png" ? "image/png" : "image/jpeg");
  return {
    async begin(pyramid) {
      info = pyramid;
    },
    async writeTile(level, col, row, data) {
      if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
      active++;
      try {
        await store.put(`${prefix}/slide_files/${level}/${col}_${row}.${info!.format}`, data, { contentType: contentType() });
      } finally {
        active--;
        waiting.shift()?.();
      }
    },
    async commit(dzi) {
      await store.put(`${prefix}/slide.dzi`, Buffer.from(dzi), { contentType: "application/xml" });
    },
    async abort() {
      await store.deletePrefix(`${prefix}/`);
    },
  };
}
