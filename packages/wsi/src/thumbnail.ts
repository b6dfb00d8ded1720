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
  const smallest = levels[levels.length - 1]!;
  const own = associated.find((a) => a.name === "thumbnail");
  if (own && (own.width * own.height <= smallest.width * smallest.height || smallest.width * smallest.height > MAX_SOURCE_PIXELS)) {
    image = await slide.readAssociated("thumbnail");
  } else if (smallest.width * smallest.height <= MAX_SOURCE_PIXELS) {
    image = await readLevel(slide, smallest.index);
  } else {
    throw new WsiError("TOO_LARGE", `${slide.metadata.name}: no level small enough for a thumbnail (smallest is ${smallest.width} × ${smallest.height})`);
  }
  while (image.width > maxSide || image.height > maxSide) image = halveImage(image);
  return image;
}

async function readLevel(slide: Slide, index: number): Promise<RgbImage> {
  const level = slide.metadata.levels[index]!;
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
