import { WsiError } from "../errors";
import { limits } from "../limits";
import type { DicomInstance } from "./instance";

/** Where a frame's fragments are when they have not been read yet: [offset, length] of each value. */
interface FrameLocation {
  parts: [number, number][];
}

const ITEM = 0xe000;
const SEQUENCE_END = 0xe0dd;

async function readItemHeader(instance: DicomInstance, at: number): Promise<{ tag: number; length: number }> {
  const bytes = await instance.source.read(at, 8);
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  if (view.getUint16(0, true) !== 0xfffe) {
    throw new WsiError("CORRUPT", `${instance.source.name}: the pixel data's item structure is broken at byte ${at}; the file is damaged.`);
  }
  return { tag: view.getUint16(2, true), length: view.getUint32(4, true) };
}

/**
 * Locates every frame of an instance, by the cheapest means it offers: native frames by
 * arithmetic; encapsulated ones from the Extended Offset Table, else the Basic Offset Table,
 * else by walking the fragments (one per frame, or a new frame at each JPEG / J2K start).
 */
export async function locateFrames(instance: DicomInstance): Promise<(index: number) => Promise<Uint8Array>> {
  const { source, frames } = instance;
  const name = source.name;
  if (!instance.encapsulated) {
    const frameBytes = instance.tileWidth * instance.tileHeight * instance.samplesPerPixel * (instance.bitsAllocated / 8);
    if (instance.pixelDataLength < frameBytes * frames) {
      throw new WsiError(
        "TRUNCATED",
        `${name}: the pixel data holds ${instance.pixelDataLength} bytes, not the ${frameBytes * frames} of ${frames} frames; the file is truncated.`,
      );
    }
    return (index) => source.read(instance.pixelDataOffset + index * frameBytes, frameBytes);
  }
  const table = await readItemHeader(instance, instance.pixelDataOffset);
  if (table.tag !== ITEM) throw new WsiError("CORRUPT", `${name}: encapsulated pixel data does not start with an offset table item.`);
  const firstFragment = instance.pixelDataOffset + 8 + table.length;
  const eot = instance.extendedOffsets;
  if (eot) {
    return async (index) => {
      const at = firstFragment + eot.offsets[index]!;
      const length = checkFrameSize(instance, eot.lengths[index]!);
      // One read when the frame is one fragment (the usual case): header and value together.
      const bytes = await source.read(at, 8 + length);
      return splitItems(instance, bytes, at) ?? collectFragments(instance, at, length);
    };
  }
  if (table.length === frames * 4) {
    const bytes = await source.read(instance.pixelDataOffset + 8, table.length);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const offsets = Array.from({ length: frames }, (_, i) => view.getUint32(i * 4, true));
    if (offsets.some((o, i) => i > 0 && o <= offsets[i - 1]!))
      throw new WsiError("CORRUPT", `${name}: the Basic Offset Table is not in ascending order; the file is damaged.`);
    return async (index) => {
      const at = firstFragment + offsets[index]!;
      if (index + 1 === frames) return collectUntil(instance, at, undefined);
      const bytes = await source.read(at, checkFrameSize(instance, offsets[index + 1]! - offsets[index]!));
      const frame = splitItems(instance, bytes, at);
      if (!frame)
        throw new WsiError("CORRUPT", `${name}: frame ${index + 1}'s fragments do not fill the space the Basic Offset Table gives it; the file is damaged.`);
      return frame;
    };
  }
  if (table.length !== 0) throw new WsiError("CORRUPT", `${name}: the Basic Offset Table has ${table.length / 4} entries for ${frames} frames.`);
  const walked = walkFragments(instance, firstFragment);
  return async (index) => {
    const all = await walked;
    const location = all[index];
    if (!location) throw new WsiError("TRUNCATED", `${name}: frame ${index + 1} of ${frames} is missing from the pixel data; the file is truncated.`);
    return readParts(instance, location);
  };
}

function checkFrameSize(instance: DicomInstance, bytes: number): number {
  if (bytes > limits.maxChunkBytes)
    throw new WsiError("TOO_LARGE", `${instance.source.name}: a frame is over ${limits.maxChunkBytes >> 20} MiB; refusing to read it.`);
  return bytes;
}

/**
 * The frame in `bytes` (item headers included, read from file offset `at`): its one fragment
 * without a copy, or its fragments joined; undefined when the items do not fill `bytes` exactly.
 */
function splitItems(instance: DicomInstance, bytes: Uint8Array, at: number): Uint8Array | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values: Uint8Array[] = [];
  let position = 0;
  while (position + 8 <= bytes.length) {
    if (view.getUint16(position, true) !== 0xfffe || view.getUint16(position + 2, true) !== ITEM) {
      throw new WsiError("CORRUPT", `${instance.source.name}: the pixel data's item structure is broken at byte ${at + position}; the file is damaged.`);
    }
    const length = view.getUint32(position + 4, true);
    if (position + 8 + length > bytes.length) return undefined;
    values.push(bytes.subarray(position + 8, position + 8 + length));
    position += 8 + length;
  }
  if (position !== bytes.length || values.length === 0) return undefined;
  return values.length === 1 ? values[0] : Buffer.concat(values);
}

/** Fragments from `at` whose values add up to `length` bytes (Extended Offset Table). */
async function collectFragments(instance: DicomInstance, at: number, length: number): Promise<Uint8Array> {
  const parts: [number, number][] = [];
  let total = 0;
  while (total < length) {
    const item = await readItemHeader(instance, at);
    if (item.tag !== ITEM || item.length === 0xffffffff)
      throw new WsiError("CORRUPT", `${instance.source.name}: a frame's fragments end early; the file is damaged.`);
    parts.push([at + 8, item.length]);
    total += item.length;
    at += 8 + item.length;
  }
  return readParts(instance, { parts });
}

/** Fragments from `at` up to the next frame's start, or to the end of the pixel data. */
async function collectUntil(instance: DicomInstance, at: number, end: number | undefined): Promise<Uint8Array> {
  const parts: [number, number][] = [];
  let total = 0;
  while (end === undefined || at < end) {
    const item = await readItemHeader(instance, at);
    if (item.tag === SEQUENCE_END) break;
    if (item.tag !== ITEM || item.length === 0xffffffff)
      throw new WsiError("CORRUPT", `${instance.source.name}: unexpected item in the pixel data at byte ${at}; the file is damaged.`);
    parts.push([at + 8, item.length]);
    total += item.length;
    if (total > limits.maxChunkBytes)
      throw new WsiError("TOO_LARGE", `${instance.source.name}: a frame is over ${limits.maxChunkBytes >> 20} MiB; refusing to read it.`);
    at += 8 + item.length; // the last frame runs to the sequence delimiter
  }
  if (parts.length === 0) throw new WsiError("CORRUPT", `${instance.source.name}: a frame has no fragments; the file is damaged.`);
  return readParts(instance, { parts });
}

/** No offset table: every fragment's position, grouped into frames. */
async function walkFragments(instance: DicomInstance, at: number): Promise<FrameLocation[]> {
  const fragments: { at: number; length: number; start: boolean }[] = [];
  const size = await instance.source.size();
  while (at + 8 <= size) {
    const header = await instance.source.read(at, Math.min(10, size - at));
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (view.getUint16(0, true) !== 0xfffe)
      throw new WsiError("CORRUPT", `${instance.source.name}: the pixel data's item structure is broken at byte ${at}; the file is damaged.`);
    const tag = view.getUint16(2, true);
    if (tag === SEQUENCE_END) break;
    const length = view.getUint32(4, true);
    if (tag !== ITEM || length === 0xffffffff)
      throw new WsiError("CORRUPT", `${instance.source.name}: unexpected item in the pixel data at byte ${at}; the file is damaged.`);
    const marker = header.length >= 10 ? (header[8]! << 8) | header[9]! : 0;
    fragments.push({ at: at + 8, length, start: marker === 0xffd8 || marker === 0xff4f });
    if (fragments.length > limits.maxChunksPerImage) throw new WsiError("TOO_LARGE", `${instance.source.name}: too many fragments.`);
    at += 8 + length;
  }
  if (fragments.length === instance.frames) return fragments.map((f) => ({ parts: [[f.at, f.length]] }));
  // More fragments than frames: a frame starts at each fragment that begins a codestream.
  const frames: FrameLocation[] = [];
  for (const f of fragments) {
    if (f.start || frames.length === 0) frames.push({ parts: [] });
    frames[frames.length - 1]!.parts.push([f.at, f.length]);
  }
  if (frames.length > instance.frames)
    throw new WsiError("CORRUPT", `${instance.source.name}: the pixel data holds ${frames.length} frames, not ${instance.frames}.`);
  return frames;
}

/** One frame's bytes, its fragments joined. */
async function readParts(instance: DicomInstance, location: FrameLocation): Promise<Uint8Array> {
  if (location.parts.length === 1) return instance.source.read(location.parts[0]![0], location.parts[0]![1]);
  const total = location.parts.reduce((sum, [, length]) => sum + length, 0);
  if (total > limits.maxChunkBytes)
    throw new WsiError("TOO_LARGE", `${instance.source.name}: a frame is over ${limits.maxChunkBytes >> 20} MiB; refusing to read it.`);
  return Buffer.concat(await Promise.all(location.parts.map(([offset, length]) => instance.source.read(offset, length))));
}
