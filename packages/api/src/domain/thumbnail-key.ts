import type { ObjectStore } from "@pathx/storage";

/**
 * Index-only thumbnails arrive by the thousand, so a batch's thumbnails are stored as one
 * object (their JPEGs one after another) and each slide's key names its byte range:
 * `<object>#<offset>+<length>`. Older slides have one object per thumbnail (no `#`).
 */
const PACK_RANGE = /^(.+)#(\d+)\+(\d+)$/;

/** The object and byte range behind a slide's thumbnail key. */
export function parseThumbnailKey(thumbnailKey: string): { key: string; range?: { offset: number; length: number } } {
  const packed = PACK_RANGE.exec(thumbnailKey);
  return packed ? { key: packed[1]!, range: { offset: Number(packed[2]), length: Number(packed[3]) } } : { key: thumbnailKey };
}

/** A slide's thumbnail bytes, whether stored alone or in a batch's pack. */
export async function readThumbnail(store: ObjectStore, thumbnailKey: string): Promise<Buffer> {
  const { key, range } = parseThumbnailKey(thumbnailKey);
  return store.get(key, range);
}

/** True when the thumbnail shares its object with others (so it is never deleted alone). */
export const isPackedThumbnail = (thumbnailKey: string) => PACK_RANGE.test(thumbnailKey);
