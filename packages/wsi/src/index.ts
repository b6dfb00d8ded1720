export { type ByteSource, createMemorySource, openBlockingFileSource, openFileSource, openHttpRangeSource } from "./byte-source";
export { WsiError, type WsiErrorCode, isWsiError } from "./errors";
export { type RgbImage, halveImage, cropImage } from "./image";
export { limits } from "./limits";
export type { AssociatedName } from "./formats/types";
export { openSlide, openSlideAt, type Slide, type SlideMetadata, type SlideLevel, type AssociatedImageInfo, type RawTile, type SlideFormat } from "./slide";
export { encodeJpeg, decodeJpeg, useBlockingCodecs } from "./codec/jpeg";
export { decodeJpeg2000, encodeJpeg2000, loadJpeg2000Encoder, type Jpeg2000DecodeOptions, type Jpeg2000EncodeOptions } from "./codec/jpeg2000";
export { planDeepZoomLevels, renderDzi, type DeepZoomLevel } from "./deepzoom/plan";
export { createFolderSink, type TileSink, type PyramidInfo } from "./deepzoom/sink";
export { buildDeepZoom, type DeepZoomOptions, type DeepZoomProgress, type DeepZoomResult } from "./deepzoom/build";
export { writeSlideWithout } from "./tiff/strip-associated";
export { makeThumbnail, makeThumbnailJpeg } from "./thumbnail";
export { HEADER_BYTES, checkSlideHeader } from "./header-check";
export { createTileCache, type TileCache } from "./tiles/cache";
export { openDeepZoomView, type DeepZoomView, type DeepZoomViewOptions, type DeepZoomTile } from "./tiles/view";
export { writeDerivedPyramid, type DerivedPyramidOptions, type DerivedPyramidResult } from "./tiles/derived";
export { writeDicomSeries, type DicomExportOptions, type DicomExportResult } from "./dicom/write-series";
export { writeServingTiff, type ServingTiffOptions, type ServingTiffResult } from "./tiles/serving-tiff";
export { isOpenslideVendorLayout } from "./formats/openslide-vendors";
export {
  SLIDE_ARCHIVE,
  checkSlideArchiveHeader,
  isArchivedSlideFile,
  isSlideArchive,
  unpackSlideArchive,
  writeMrxsArchive,
  writeSlideArchive,
  writeVmsArchive,
} from "./formats/slide-archive";
