import { type ObjectStore, StorageError } from "@pathx/storage";

/** What the tile service needs to know of a slide: read once per open, never per tile. */
export interface SlideRecord {
  status: string;
  sourceKey: string | null;
  /** `<kind>/<slide>/<version>`: the pyramid's folder; its last segment is the version tile URLs name. */
  tilesPrefix: string | null;
}

/** One slide's Deep Zoom pyramid as the service serves it. */
export interface Pyramid {
  version: string;
  dzi: string;
  format: "jpeg" | "png";
  /** A tile's bytes; StorageError/WsiError NOT_FOUND for an address outside the pyramid. */
  tile(level: number, col: number, row: number, signal: AbortSignal): Promise<Uint8Array>;
  /** A tile already in memory, else undefined: answered without waiting in line. */
  peek?(level: number, col: number, row: number): Uint8Array | undefined;
  close(): Promise<void>;
}

export type OpenPyramid = (
  store: ObjectStore,
  slideId: string,
  record: SlideRecord & { tilesPrefix: string },
  signal: AbortSignal,
) => Promise<Pyramid | undefined>;

export const versionOf = (tilesPrefix: string) => tilesPrefix.slice(tilesPrefix.lastIndexOf("/") + 1);

/**
 * A slide tiled the old way (a Deep Zoom pyramid of one object per tile under its prefix):
 * served as it is, so slides tiled before the tile service keep working without migration.
 */
export const openStoredPyramid: OpenPyramid = async (store, _slideId, record) => {
  const prefix = record.tilesPrefix;
  if (!prefix.startsWith("tiles/")) return undefined;
  const dzi = await store.get(`${prefix}/slide.dzi`).then(
    (bytes) => bytes.toString("utf8"),
    (error: unknown) => {
      if (error instanceof StorageError && error.code === "NOT_FOUND") return undefined;
      throw error;
    },
  );
  if (dzi === undefined) return undefined;
  const format = /Format="png"/.test(dzi) ? "png" : "jpeg";
  return {
    version: versionOf(prefix),
    dzi,
    format,
    tile: (level, col, row) => store.get(`${prefix}/slide_files/${level}/${col}_${row}.${format}`),
    close: async () => {},
  };
};

/**
 * The open pyramids of one process: at most `max`, least recently used closed first. A
 * slide's record is read once per open; a URL naming another version than the slide's
 * current one reads it again (the pyramid may have been replaced) and else answers not found.
 */
export function createPyramidRegistry(options: {
  store: ObjectStore;
  max: number;
  lookup: (slideId: string) => Promise<SlideRecord | undefined>;
  /** Tried in order; the first that recognises the slide's pyramid serves it. */
  openers: OpenPyramid[];
}) {
  const open = new Map<string, Promise<Pyramid | undefined>>();
  // The settled pyramids among `open`, for answers that need no await (a tile in memory).
  const settled = new WeakMap<Promise<Pyramid | undefined>, Pyramid>();
  const evict = () => {
    while (open.size > options.max) {
      const [oldest, pending] = open.entries().next().value!;
      open.delete(oldest);
      void pending.then((p) => p?.close()).catch(() => {});
    }
  };
  const load = async (slideId: string, version: string, signal: AbortSignal): Promise<Pyramid | undefined> => {
    const record = await options.lookup(slideId);
    if (!record?.tilesPrefix || record.status !== "ready" || versionOf(record.tilesPrefix) !== version) return undefined;
    for (const opener of options.openers) {
      const pyramid = await opener(options.store, slideId, { ...record, tilesPrefix: record.tilesPrefix }, signal);
      if (pyramid) return pyramid;
    }
    return undefined;
  };
  return {
    /** The slide's pyramid if it is open at that version, without waiting; else undefined (then `get`). */
    peek(slideId: string, version: string): Pyramid | undefined {
      const pending = open.get(slideId);
      const pyramid = pending && settled.get(pending);
      return pyramid?.version === version ? pyramid : undefined;
    },
    async get(slideId: string, version: string, signal: AbortSignal): Promise<Pyramid | undefined> {
      const cached = open.get(slideId);
      // An open that outlives a request's deadline (a hanging store) is forgotten, so the next request tries afresh.
      const forget = (pending: Promise<unknown>) =>
        signal.addEventListener("abort", () => open.get(slideId) === pending && open.delete(slideId), { once: true });
      if (cached) {
        forget(cached);
        const pyramid = await cached.catch(() => undefined);
        if (pyramid?.version === version) {
          open.delete(slideId); // most recently used last
          open.set(slideId, cached);
          return pyramid;
        }
        if (open.get(slideId) === cached) open.delete(slideId);
        void pyramid?.close().catch(() => {});
      }
      const pending = load(slideId, version, signal);
      void pending.then(
        (p) => p && settled.set(pending, p),
        () => {},
      );
      open.set(slideId, pending);
      forget(pending);
      evict();
      // A failed or absent open is not kept: the next request tries again.
      const pyramid = await pending.catch((error: unknown) => {
        if (open.get(slideId) === pending) open.delete(slideId);
        throw error;
      });
      if (!pyramid && open.get(slideId) === pending) open.delete(slideId);
      return pyramid;
    },
    size: () => open.size,
    /** Closes every open pyramid; one still opening (a hanging store) is closed whenever it settles. */
    closeAll() {
      for (const pending of open.values()) void pending.then((p) => p?.close()).catch(() => {});
      open.clear();
    },
  };
}
export type PyramidRegistry = ReturnType<typeof createPyramidRegistry>;
