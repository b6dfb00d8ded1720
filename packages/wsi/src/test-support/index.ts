export { fixturePath } from "./fixtures";
export { psnr, readJpegFile, renderRegion } from "./pixels";
export { pyramidImages, tissuePixel, writeTestTiff, type TestImage, type WrittenTiff } from "./tiff-writer";
export { writeRepeatingSlide } from "./repeating-slide";
export { nonWsiDicom, writeTestDicomSeries, type TestDicomOptions, type WrittenDicomSeries } from "./dicom-series";
export { writeNdpi, type NdpiOptions, type NdpiLevelSpec, type WrittenNdpi } from "./ndpi-writer";
export { openslideProperties, openslideRegion, readSlideRegion } from "./openslide-check";
export { writePhilipsTiff } from "./philips-writer";
export { writeMrxs, type MrxsOptions, type WrittenMrxs } from "./mrxs-writer";
