import { WsiError } from "../errors";
import { type RgbImage, cropImage } from "../image";
import { limits } from "../limits";
import type { AssociatedReader, LevelReader } from "../formats/level-reader";
import { blankImage } from "../formats/tiff-levels";
import { locateFrames } from "./frames";
import { type FrameCoding, decodeFrame, frameCodingOf, rawFrame } from "./frame-codec";
import type { DicomInstance } from "./instance";

/** The instances of one image: a single instance, or the parts of a concatenation in order. */
export interface DicomImage {
  parts: DicomInstance[];
  first: DicomInstance;
}

/**
 * Groups instances into images: instances sharing a ConcatenationUID are one image, and every
 * part of it must be there.
 */
export function groupImages(instances: DicomInstance[]): DicomImage[] {
  const byKey = new Map<string, DicomInstance[]>();
  for (const instance of instances) {
    const key = instance.concatenation?.uid ?? `sop:${instance.sopInstanceUid}`;
    byKey.set(key, [...(byKey.get(key) ?? []), instance]);
  }
  return [...byKey.values()].map((parts) => {
    const concatenation = parts[0]!.concatenation;
    if (concatenation) {
      parts.sort((a, b) => a.concatenation!.number - b.concatenation!.number);
      const numbers = new Set(parts.map((p) => p.concatenation!.number));
      const missing = Array.from({ length: concatenation.total }, (_, i) => i + 1).filter((n) => !numbers.has(n));
      if (missing.length > 0 || parts.length !== concatenation.total) {
        throw new WsiError(
          "CORRUPT",
          `${parts[0]!.source.name}: is part of a concatenation of ${concatenation.total} instances, but instance${missing.length === 1 ? "" : "s"} ${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} missing; copy the whole series folder.`,
        );
      }
      let expected = 0;
      for (const part of parts) {
        if (part.concatenation!.frameOffset !== expected) {
          throw new WsiError(
            "CORRUPT",
            `${part.source.name}: its concatenation frame offset is ${part.concatenation!.frameOffset}, expected ${expected}; the series is damaged.`,
          );
        }
        expected += part.frames;
      }
    }
    return { parts, first: parts[0]! };
  });
}

interface FrameRef {
  instance: DicomInstance;
  index: number;
}

/** A pyramid level over an image's frames: TILED_FULL by arithmetic, TILED_SPARSE by position. */
export function dicomLevel(image: DicomImage): LevelReader {
  const { first } = image;
  const coding = frameCodingOf(first);
  for (const part of image.parts) frameCodingOf(part);
  const across = Math.ceil(first.totalWidth / first.tileWidth);
  const down = Math.ceil(first.totalHeight / first.tileHeight);
  const locators = new Map<DicomInstance, Promise<(index: number) => Promise<Uint8Array>>>();
  const locator = (instance: DicomInstance) => {
    let found = locators.get(instance);
    if (!found) {
      found = locateFrames(instance);
      found.catch(() => locators.delete(instance)); // a failure is reported to this caller and retried by the next
      locators.set(instance, found);
    }
    return found;
  };
  const frameOf = buildFrameIndex(image, across, down);
  const readFrame = async (col: number, row: number): Promise<Uint8Array | undefined> => {
    const ref = frameOf(col, row);
    if (!ref) return undefined; // TILED_SPARSE: nothing scanned there
    return (await locator(ref.instance))(ref.index);
  };
  return {
    width: first.totalWidth,
    height: first.totalHeight,
    tileWidth: first.tileWidth,
    tileHeight: first.tileHeight,
    compression: coding,
    async readRaw(col, row) {
      const bytes = await readFrame(col, row);
      return bytes ? rawFrame(first, coding, bytes) : { kind: "other", bytes: new Uint8Array(0) };
    },
    async decode(col, row, into) {
      const bytes = await readFrame(col, row);
      return bytes ? decodeFrame(first, coding, bytes, into) : blankImage(first.tileWidth, first.tileHeight);
    },
  };
}

function buildFrameIndex(image: DicomImage, across: number, down: number): (col: number, row: number) => FrameRef | undefined {
  const { first } = image;
  const tiles = across * down;
  const total = image.parts.reduce((sum, p) => sum + p.frames, 0);
  const refAt = (global: number): FrameRef | undefined => {
    let offset = 0;
    for (const instance of image.parts) {
      if (global < offset + instance.frames) return { instance, index: global - offset };
      offset += instance.frames;
    }
    return undefined;
  };
  if (first.tiledFull) {
    // Frames run along rows, then down; further focal planes and optical paths follow: we show the first.
    if (total < tiles) {
      throw new WsiError(
        "TRUNCATED",
        `${first.source.name}: holds ${total} frames but a ${across} × ${down} tile grid needs ${tiles}; instances or frames are missing.`,
      );
    }
    return (col, row) => refAt(row * across + col);
  }
  const map = new Int32Array(tiles).fill(-1);
  let global = 0;
  for (const instance of image.parts) {
    const positions = instance.positions!;
    for (let i = 0; i < instance.frames; i++, global++) {
      const x = positions[i * 2]! - 1;
      const y = positions[i * 2 + 1]! - 1;
      if (x < 0 || y < 0 || x % first.tileWidth || y % first.tileHeight) {
        throw new WsiError(
          "CORRUPT",
          `${instance.source.name}: frame ${i + 1} sits at ${x + 1},${y + 1}, off the tile grid; pathx reads tiles aligned to the grid.`,
        );
      }
      const tile = (y / first.tileHeight) * across + x / first.tileWidth;
      if (x / first.tileWidth < across && y / first.tileHeight < down && map[tile] === -1) map[tile] = global; // first focal plane wins
    }
  }
  return (col, row) => {
    const at = map[row * across + col]!;
    return at < 0 ? undefined : refAt(at);
  };
}

/** A label, overview or thumbnail image: its tiles stitched into one picture. */
export function dicomAssociated(image: DicomImage): AssociatedReader {
  const level = dicomLevel(image);
  return {
    width: level.width,
    height: level.height,
    compression: level.compression,
    async read() {
      if (level.width * level.height > limits.maxAssociatedPixels) {
        throw new WsiError("TOO_LARGE", `${image.first.source.name}: the image is ${level.width} × ${level.height}; refusing to decode it.`);
      }
      const out: RgbImage = blankImage(level.width, level.height);
      for (let row = 0; row * level.tileHeight < level.height; row++) {
        for (let col = 0; col * level.tileWidth < level.width; col++) {
          const tile = await level.decode(col, row);
          const x0 = col * level.tileWidth;
          const y0 = row * level.tileHeight;
          const part = cropImage(tile, 0, 0, Math.min(tile.width, level.width - x0), Math.min(tile.height, level.height - y0));
          for (let y = 0; y < part.height; y++) part.data.copy(out.data, ((y0 + y) * level.width + x0) * 3, y * part.width * 3, (y + 1) * part.width * 3);
        }
      }
      return out;
    },
  };
}

export type { FrameCoding };
