import { encodeJpeg } from "./codec/jpeg";
import { cropJpegLossless, readJpegSize } from "./codec/turbojpeg";
import { WsiError } from "./errors";
import { type RgbImage, halveImage } from "./image";
import type { Slide } from "./slide";

/** Above this many pixels the smallest level is not read whole for a thumbnail. */
const MAX_SOURCE_PIXELS = 4096 * 4096;

/**
 * A small overview of the whole slide, at most `maxSide` pixels on its longer side: from the
 * file's own thumbnail image when it has one (Aperio), else from the smallest pyramid level,
 * read tile by tile. Box-halved, so it costs a few milliseconds per slide (backlogs of
 * millions are indexed this way).
 */
export async function makeThumbnail(slide: Slide, maxSide = 256): Promise<RgbImage> {
  const { levels, associated } = slide.metadata;
  let image: RgbImage | undefined;
  const pixels = (l: { width: number; height: number }) => l.width * l.height;
  const bySize = [...levels].sort((a, b) => pixels(a) - pixels(b));
  // The smallest level still as large as the thumbnail (a Deep Zoom style pyramid goes down to
  // 1 × 1), or the largest one small enough to read whole.
  const source =
    bySize.find((l) => Math.max(l.width, l.height) >= maxSide && pixels(l) <= MAX_SOURCE_PIXELS) ??
    bySize.filter((l) => pixels(l) <= MAX_SOURCE_PIXELS).at(-1) ??
    bySize[0]!;
  const own = associated.find((a) => a.name === "thumbnail");
  if (own && (pixels(own) <= pixels(source) || pixels(source) > MAX_SOURCE_PIXELS)) {
    image = await slide.readAssociated("thumbnail");
  } else if (pixels(source) <= MAX_SOURCE_PIXELS) {
    image = await readLevel(slide, source.index);
  } else {
    const smallest = bySize[0]!;
    throw new WsiError("TOO_LARGE", `${slide.metadata.name}: no level small enough for a thumbnail (smallest is ${smallest.width} × ${smallest.height})`);
  }
  while (image.width > maxSide || image.height > maxSide) image = halveImage(image);
  return image;
}

/** A source JPEG larger than this is re-encoded rather than sent as the thumbnail. */
const MAX_PASSED_JPEG_BYTES = 96 * 1024;

/**
 * `makeThumbnail` as a JPEG. When the smallest level is already thumbnail-sized and stored as
 * one JPEG tile or strip, that JPEG is the thumbnail: as stored (tables merged) when it is the
 * level's exact size, else cut losslessly to the level's size (a padded tile: cropJpegLossless,
 * no IDCT or DCT). No decode and encode, which was most of a backlog record's reading time.
 * The crop decodes to the tile's pixels except, for 4:2:0 chroma, the last row (its chroma is
 * upsampled without the padding row below): a few levels, against tens for a re-encode.
 */
export async function makeThumbnailJpeg(slide: Slide, maxSide = 256, quality = 80): Promise<Buffer> {
  const { levels, associated } = slide.metadata;
  const smallest = levels.reduce((a, b) => (b.width * b.height < a.width * a.height ? b : a));
  const inOneTile =
    Math.max(smallest.width, smallest.height) <= maxSide &&
    smallest.width <= smallest.tileWidth &&
    smallest.height <= smallest.tileHeight &&
    // makeThumbnail prefers the file's own thumbnail when it is no larger: so does this.
    !associated.some((a) => a.name === "thumbnail" && a.width * a.height <= smallest.width * smallest.height);
  if (inOneTile) {
    const raw = await slide.readRawTile(smallest.index, 0, 0);
    if (raw.kind === "jpeg" && raw.bytes.length <= MAX_PASSED_JPEG_BYTES) {
      if (smallest.tileWidth === smallest.width && smallest.tileHeight === smallest.height)
        return Buffer.from(raw.bytes.buffer, raw.bytes.byteOffset, raw.bytes.byteLength);
      // Only a JPEG of the tile's full size is cut: anything else is decoded as today.
      const size = readJpegSize(raw.bytes);
      if (size.width === smallest.tileWidth && size.height === smallest.tileHeight) {
        const cropped = cropJpegLossless(raw.bytes, smallest.width, smallest.height);
        if (cropped) return cropped;
      }
    }
  }
  return encodeJpeg(await makeThumbnail(slide, maxSide), quality);
}

async function readLevel(slide: Slide, index: number): Promise<RgbImage> {
  const level = slide.metadata.levels[index]!;
  // One tile as wide as the level covers it (a small level): its first rows are the image, uncopied.
  if (level.width === level.tileWidth && level.height <= level.tileHeight) {
    const tile = await slide.decodeTile(index, 0, 0);
    if (tile.width === level.width && tile.height >= level.height && !tile.stride) return { width: level.width, height: level.height, data: tile.data };
  }
  const data = Buffer.alloc(level.width * level.height * 3);
  const cols = Math.ceil(level.width / level.tileWidth);
  const rows = Math.ceil(level.height / level.tileHeight);
  for (let row = 0; row < rows; row++) {
    for (let col = 0; col < cols; col++) {
      const tile = await slide.readTile(index, col, row);
      const x = col * level.tileWidth;
      const y = row * level.tileHeight;
      const tileStride = (tile.stride ?? tile.width) * 3;
      for (let r = 0; r < tile.height; r++) {
        tile.data.copy(data, ((y + r) * level.width + x) * 3, r * tileStride, r * tileStride + tile.width * 3);
      }
    }
  }
  return { width: level.width, height: level.height, data };
}
