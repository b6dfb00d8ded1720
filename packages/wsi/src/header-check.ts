import type { ByteSource } from "./byte-source";
import { WsiError } from "./errors";
import { openSlide } from "./slide";

/** Bytes from the start of a file that are enough to judge most slides before they are sent. */
export const HEADER_BYTES = 64 * 1024;

/**
 * Judges a slide file from its first bytes (and its full size), before it is uploaded: whether it
 * is a TIFF-based slide the engine can read. Directories, tables or tiles past the given bytes
 * cannot be checked here and count as fine (the tiler reads them later).
 * Returns undefined when the file may be taken, else why not (a WsiError's code and message).
 */
export async function checkSlideHeader(head: Uint8Array, fileSize: number, name: string): Promise<{ code: string; message: string } | undefined> {
  // Set when the engine needed bytes past the header: then only the whole file can tell.
  let beyond = false;
  const source: ByteSource = {
    name,
    size: async () => fileSize,
    async read(offset, length) {
      if (offset + length > fileSize)
        throw new WsiError("TRUNCATED", `${name} is shorter than its own directory says: it is damaged or was not copied completely.`);
      if (offset + length > head.length) {
        beyond = true;
        throw new WsiError("TRUNCATED", "past the header");
      }
      return head.subarray(offset, offset + length);
    },
    close: async () => {},
  };
  try {
    const slide = await openSlide(source);
    await slide.close();
    return undefined;
  } catch (error) {
    if (beyond) return undefined;
    if (error instanceof WsiError) return { code: error.code, message: error.message };
    throw error;
  }
}
