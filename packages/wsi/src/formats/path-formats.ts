import { dicomFolderFormat } from "./dicom";
import type { PathFormat, SourceFormat } from "./level-reader";

/**
 * Readers that need a path (folders, companion files, native libraries), tried in order after
 * the native single-file readers, or before them when `preferPathFormat` says so.
 */
export const pathFormats: readonly PathFormat[] = [dicomFolderFormat];

/** True when a path reader should be asked before the native reader that claimed the bytes. */
export async function preferPathFormat(_native: SourceFormat, _path: string): Promise<boolean> {
  return false;
}
