/** TIFF tag numbers the engine reads (TIFF 6.0, TIFF Technical Note 1, Adobe, Aperio, Hamamatsu). */
export const Tag = {
  NewSubfileType: 254,
  ImageWidth: 256,
  ImageLength: 257,
  BitsPerSample: 258,
  Compression: 259,
  Photometric: 262,
  ImageDescription: 270,
  StripOffsets: 273,
  SamplesPerPixel: 277,
  RowsPerStrip: 278,
  StripByteCounts: 279,
  XResolution: 282,
  YResolution: 283,
  PlanarConfiguration: 284,
  ResolutionUnit: 296,
  Software: 305,
  Predictor: 317,
  TileWidth: 322,
  TileLength: 323,
  TileOffsets: 324,
  TileByteCounts: 325,
  SubIFDs: 330,
  SampleFormat: 339,
  JPEGTables: 347,
  /** Adobe XMP packet (Ventana BIF keeps its iScan XML here). */
  XMP: 700,
  NdpiFormatFlag: 65420,
  NdpiSourceLens: 65421,
  NdpiXOffset: 65422,
  NdpiYOffset: 65423,
  NdpiFocalPlane: 65424,
  NdpiMcuStarts: 65426,
  NdpiReference: 65427,
  NdpiMcuStartsHighBytes: 65432,
  NdpiPropertyMap: 65449,
} as const;

/** Byte size of each TIFF field type; 0 marks an unknown type. */
export const fieldTypeSize: Record<number, number> = {
  1: 1,
  2: 1,
  3: 2,
  4: 4,
  5: 8,
  6: 1,
  7: 1,
  8: 2,
  9: 4,
  10: 8,
  11: 4,
  12: 8,
  13: 4,
  16: 8,
  17: 8,
  18: 8,
};

export const Compression = {
  None: 1,
  Lzw: 5,
  OldJpeg: 6,
  Jpeg: 7,
  AdobeDeflate: 8,
  PackBits: 32773,
  Deflate: 32946,
  Jp2kYcbcr: 33003,
  Jp2kRgb: 33005,
} as const;

export function describeCompression(code: number): string {
  switch (code) {
    case 1:
      return "none";
    case 5:
      return "lzw";
    case 6:
      return "old-jpeg";
    case 7:
      return "jpeg";
    case 8:
    case 32946:
      return "deflate";
    case 32773:
      return "packbits";
    case 33003:
    case 33005:
      return "jpeg2000";
    case 34712:
      return "jpeg2000";
    case 50000:
      return "zstd";
    case 50001:
      return "webp";
    case 34887:
      return "lerc";
    default:
      return `tiff-compression-${code}`;
  }
}
