import { dicomFolderFormat } from "./dicom";
import type { PathFormat, SourceFormat } from "./level-reader";
import { isOpenslideVendorTiff, openslideFormat } from "./openslide";

/**
 * Readers that need a path (folders, companion files, native libraries), tried in order after
 * the native single-file readers, or before them when `preferPathFormat` says so. OpenSlide is
 * the last resort.
 */
export const pathFormats: readonly PathFormat[] = [dicomFolderFormat, openslideFormat];

/** True when a path reader should be asked before the native reader that claimed the bytes. */
export async function preferPathFormat(native: SourceFormat, path: string): Promise<boolean> {
  // Leica SCN, Ventana BIF, Philips TIFF are TIFFs: the generic TIFF reading would get their layout wrong.
  return native.name === "tiff" && (await isOpenslideVendorTiff(path));
}
