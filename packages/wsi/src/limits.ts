/**
 * Bounds that keep a hostile or damaged file from exhausting memory or time. Real slides sit
 * far inside them: the largest scanners write about 200 000 px per side, 256–1 024 px tiles.
 */
export const limits = {
  maxDirectories: 4096,
  maxEntriesPerDirectory: 1024,
  maxSubIfdsPerDirectory: 64,
  maxImageSide: 500_000,
  maxTileSide: 8192,
  maxChunkBytes: 64 * 1024 * 1024,
  maxChunksPerImage: 20_000_000,
  maxAssociatedPixels: 200_000_000,
  maxTextBytes: 4 * 1024 * 1024,
  /** An NDPI level without restart markers is decoded whole: only small ones. */
  maxWholeLevelPixels: 64_000_000,
} as const;
