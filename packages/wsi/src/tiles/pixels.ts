import { WsiError } from "../errors";
import { type RgbImage, shrinkRowPair } from "../image";

/**
 * Halves a block of up to 2 × 2 tiles (`grid[row][col]`, the finer level's tiles) into one
 * tile, 2×2 box filter. Same arithmetic as the pyramid builder's row-pair shrink, so a tile
 * computed here equals the builder's tile; the odd last row or column averages what exists.
 */
export function shrinkTileBlock(grid: RgbImage[][], width: number, height: number): RgbImage {
  const first = grid[0]![0]!;
  const blockHeight = grid.reduce((sum, line) => sum + line[0]!.height, 0);
  const out = Buffer.allocUnsafe(width * height * 3);
  if (first.width % 2 === 0 && first.height % 2 === 0) {
    // Even tiles: a 2×2 block never straddles two tiles, so rows are shrunk where they lie.
    for (let y = 0; y < height; y++) {
      const line = 2 * y < first.height ? grid[0]! : grid[1]!;
      const top = 2 * y - (line === grid[0] ? 0 : first.height);
      const bottom = Math.min(top + 1, line[0]!.height - 1);
      let at = y * width * 3;
      for (const tile of line) {
        const stride = (tile.stride ?? tile.width) * 3;
        shrinkRowPair(tile.data, top * stride, bottom * stride, tile.width, out, at);
        at += (tile.width >> 1) * 3;
      }
    }
    return { width, height, data: out };
  }
  const blockWidth = grid[0]!.reduce((sum, tile) => sum + tile.width, 0);
  const rowBytes = blockWidth * 3;
  const pair = Buffer.allocUnsafe(rowBytes * 2);
  const copyRow = (y: number, into: number) => {
    const line = y < first.height ? grid[0]! : grid[1]!;
    const ty = line === grid[0] ? y : y - first.height;
    let at = into;
    for (const tile of line) {
      const from = ty * (tile.stride ?? tile.width) * 3;
      tile.data.copy(pair, at, from, from + tile.width * 3);
      at += tile.width * 3;
    }
  };
  for (let y = 0; y < height; y++) {
    const top = 2 * y;
    const bottom = Math.min(top + 1, blockHeight - 1);
    copyRow(top, 0);
    if (bottom !== top) copyRow(bottom, rowBytes);
    shrinkRowPair(pair, 0, bottom !== top ? rowBytes : 0, blockWidth, out, y * width * 3);
  }
  return { width, height, data: out };
}

/** A packed copy of a strided view, or the image itself when already packed. */
export function packImage(image: RgbImage): RgbImage {
  if (!image.stride || image.stride === image.width) return image;
  const out = Buffer.allocUnsafe(image.width * image.height * 3);
  for (let y = 0; y < image.height; y++) {
    const from = y * image.stride * 3;
    image.data.copy(out, y * image.width * 3, from, from + image.width * 3);
  }
  return { width: image.width, height: image.height, data: out };
}

/** Pads an edge tile to size × size by repeating its last column and row (TIFF tiles are always whole). */
export function padImage(image: RgbImage, size: number): RgbImage {
  if (image.width === size && image.height === size) return image;
  const out = Buffer.allocUnsafe(size * size * 3);
  const stride = (image.stride ?? image.width) * 3;
  for (let y = 0; y < size; y++) {
    const from = Math.min(y, image.height - 1) * stride;
    const at = y * size * 3;
    image.data.copy(out, at, from, from + image.width * 3);
    for (let x = image.width; x < size; x++) out.copy(out, at + x * 3, at + (image.width - 1) * 3, at + image.width * 3);
  }
  return { width: size, height: size, data: out };
}

/**
 * A cheap check that a stored JPEG tile is whole before it is sent undecoded: the header
 * segments chain up to a scan, and the data ends with an EOI marker (scanners may pad with zeros).
 */
export function checkJpegComplete(jpeg: Uint8Array, where: string): void {
  let at = 2;
  let scan = false;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg[at + 1]!;
    if (marker === 0xda) {
      scan = true;
      break;
    }
    at += 2 + ((jpeg[at + 2]! << 8) | jpeg[at + 3]!);
  }
  let end = jpeg.length;
  while (end > 2 && jpeg[end - 1] === 0 && jpeg.length - end < 4096) end--;
  if (!scan || jpeg[end - 2] !== 0xff || jpeg[end - 1] !== 0xd9) {
    throw new WsiError("CORRUPT", `${where}: the stored JPEG tile is damaged (truncated or malformed).`);
  }
}
