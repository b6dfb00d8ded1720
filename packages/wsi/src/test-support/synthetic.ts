// Synthetic slides for demo data and benchmarks (the same writers the tests use).
export { pyramidImages, tissuePixel, writeTestTiff } from "./tiff-writer";
export { writeRepeatingSlide } from "./repeating-slide";
