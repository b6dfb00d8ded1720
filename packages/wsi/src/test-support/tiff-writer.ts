import jpegTurbo from "@julusian/jpeg-turbo";
import { deflateSync } from "node:zlib";

/**
 * A small TIFF writer for tests: tiled pyramids (classic or BigTIFF, JPEG / deflate / none),
 * SubIFDs, stripped associated images — and the byte positions of every entry, so tests can
 * forge damaged files precisely.
 */
export interface TestImage {
  width: number;
  height: number;
  /** Omit for a stripped image. */
  tileSize?: number;
  compression?: "jpeg" | "deflate" | "none";
  description?: string;
  newSubfileType?: number;
  /** RGB of a pixel at this image's own coordinates. */
  pixel: (x: number, y: number) => [number, number, number];
  subIfds?: TestImage[];
  /** Extra raw entries: [tag, type, values]. */
  extraTags?: [number, number, number[] | string][];
  /** Pixels per centimetre, written as XResolution/YResolution. */
  pixelsPerCm?: number;
  quality?: number;
  /** Any other codec: its TIFF compression code, photometric interpretation and encoder. */
  codec?: { compression: number; photometric: number; encode: (raw: Buffer, width: number, height: number) => Buffer };
}

export interface WrittenTiff {
  bytes: Buffer;
  /** Per directory in write order (main chain, each followed by its SubIFDs): IFD offset and entry positions by tag. */
  directories: { offset: number; entries: Map<number, number> }[];
  bigTiff: boolean;
}

/** Smooth "tissue" with nuclei-like dots and grain: JPEG has real work, PSNR is meaningful. */
export function tissuePixel(x: number, y: number): [number, number, number] {
  const stroma = 0.5 + 0.5 * Math.sin(x * 0.05 + Math.sin(y * 0.03) * 2);
  const nucleus = Math.sin(x * 0.31) * Math.sin(y * 0.29) > 0.85 ? 1 : 0;
  const grain = ((x * 73856093) ^ (y * 19349663)) & 15;
  const r = 230 - 60 * nucleus - 30 * stroma + grain;
  const g = 170 - 110 * nucleus - 60 * stroma + grain;
  const b = 200 - 20 * nucleus - 20 * stroma + grain;
  return [r, g, b].map((v) => Math.max(0, Math.min(255, Math.round(v)))) as [number, number, number];
}

function renderChunk(image: TestImage, x0: number, y0: number, w: number, h: number): Buffer {
  const data = Buffer.alloc(w * h * 3, 255);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      if (x0 + x >= image.width || y0 + y >= image.height) continue;
      const [r, g, b] = image.pixel(x0 + x, y0 + y);
      const at = (y * w + x) * 3;
      data[at] = r;
      data[at + 1] = g;
      data[at + 2] = b;
    }
  }
  return data;
}

function compressChunk(image: TestImage, raw: Buffer, w: number, h: number): Buffer {
  if (image.codec) return image.codec.encode(raw, w, h);
  const compression = image.compression ?? "jpeg";
  if (compression === "none") return raw;
  if (compression === "deflate") return deflateSync(raw);
  return jpegTurbo.compressSync(raw, { format: jpegTurbo.FORMAT_RGB, width: w, height: h, quality: image.quality ?? 90, subsampling: jpegTurbo.SAMP_420 });
}

export function writeTestTiff(images: TestImage[], options: { bigTiff?: boolean } = {}): WrittenTiff {
  const bigTiff = options.bigTiff ?? false;
  const chunks: Buffer[] = [];
  let length = 0;
  const append = (b: Buffer) => {
    const at = length;
    chunks.push(b);
    length += b.length;
    if (length % 2) {
      chunks.push(Buffer.alloc(1));
      length++;
    }
    return at;
  };
  const header = Buffer.alloc(bigTiff ? 16 : 8);
  header.write("II", 0, "latin1");
  header.writeUInt16LE(bigTiff ? 43 : 42, 2);
  if (bigTiff) header.writeUInt16LE(8, 4);
  append(header);
  const directories: WrittenTiff["directories"] = [];
  const offsetSize = bigTiff ? 8 : 4;

  const writeImage = (image: TestImage): { offset: number } => {
    const subOffsets = (image.subIfds ?? []).map((sub) => writeImage(sub).offset);
    const tiled = image.tileSize !== undefined;
    const cw = image.tileSize ?? image.width;
    const ch = image.tileSize ?? Math.min(image.height, 64);
    const across = Math.ceil(image.width / cw);
    const down = Math.ceil(image.height / ch);
    const offsets: number[] = [];
    const counts: number[] = [];
    for (let row = 0; row < down; row++) {
      for (let col = 0; col < across; col++) {
        const h = tiled ? ch : Math.min(ch, image.height - row * ch);
        const raw = renderChunk(image, col * cw, row * ch, cw, h);
        const data = compressChunk(image, raw, cw, h);
        offsets.push(append(data));
        counts.push(data.length);
      }
    }
    const compressionCode = image.codec?.compression ?? { jpeg: 7, deflate: 8, none: 1 }[image.compression ?? "jpeg"];
    const isJpeg = !image.codec && (image.compression === "jpeg" || image.compression === undefined);
    const LONG = bigTiff ? 16 : 4;
    const tags: [number, number, number[] | string][] = [
      [254, 4, [image.newSubfileType ?? 0]],
      [256, 4, [image.width]],
      [257, 4, [image.height]],
      [258, 3, [8, 8, 8]],
      [259, 3, [compressionCode]],
      [262, 3, [image.codec?.photometric ?? (isJpeg ? 6 : 2)]],
      [277, 3, [3]],
      [284, 3, [1]],
    ];
    if (image.description !== undefined) tags.push([270, 2, image.description]);
    if (image.pixelsPerCm)
      tags.push([282, 5, [Math.round(image.pixelsPerCm * 1000), 1000]], [283, 5, [Math.round(image.pixelsPerCm * 1000), 1000]], [296, 3, [3]]);
    if (tiled) tags.push([322, 3, [cw]], [323, 3, [ch]], [324, LONG, offsets], [325, 4, counts]);
    else tags.push([273, LONG, offsets], [278, 4, [ch]], [279, 4, counts]);
    if (subOffsets.length) tags.push([330, bigTiff ? 18 : 13, subOffsets]);
    if (isJpeg) tags.push([530, 3, [2, 2]]);
    for (const [tag, type, values] of image.extraTags ?? []) tags.push([tag, type, values]);
    tags.sort((a, b) => a[0] - b[0]);

    const entrySize = bigTiff ? 20 : 12;
    const ifdSize = (bigTiff ? 8 : 2) + tags.length * entrySize + offsetSize;
    // Out-of-line values go after the IFD.
    const valueBlobs = tags.map(([, type, values]) => (typeof values === "string" ? Buffer.from(`${values}\0`, "latin1") : encodeValues(type, values)));
    const ifdOffset = length;
    const ifd = Buffer.alloc(ifdSize);
    const extra: Buffer[] = [];
    let extraAt = ifdOffset + ifdSize + (ifdSize % 2);
    const entries = new Map<number, number>();
    if (bigTiff) ifd.writeBigUInt64LE(BigInt(tags.length), 0);
    else ifd.writeUInt16LE(tags.length, 0);
    tags.forEach(([tag, type, values], i) => {
      const at = (bigTiff ? 8 : 2) + i * entrySize;
      entries.set(tag, ifdOffset + at);
      const count = typeof values === "string" ? values.length + 1 : type === 5 ? values.length / 2 : values.length;
      ifd.writeUInt16LE(tag, at);
      ifd.writeUInt16LE(type, at + 2);
      if (bigTiff) ifd.writeBigUInt64LE(BigInt(count), at + 4);
      else ifd.writeUInt32LE(count, at + 4);
      const blob = valueBlobs[i]!;
      const valueAt = at + (bigTiff ? 12 : 8);
      if (blob.length <= offsetSize) blob.copy(ifd, valueAt);
      else {
        if (bigTiff) ifd.writeBigUInt64LE(BigInt(extraAt), valueAt);
        else ifd.writeUInt32LE(extraAt, valueAt);
        extra.push(blob);
        if (blob.length % 2) extra.push(Buffer.alloc(1));
        extraAt += blob.length + (blob.length % 2);
      }
    });
    append(ifd);
    for (const blob of extra) {
      chunks.push(blob);
      length += blob.length;
    }
    directories.push({ offset: ifdOffset, entries });
    return { offset: ifdOffset };
  };

  const written = images.map((image) => writeImage(image));
  const bytes = Buffer.concat(chunks);
  if (bigTiff) bytes.writeBigUInt64LE(BigInt(written[0]!.offset), 8);
  else bytes.writeUInt32LE(written[0]!.offset, 4);
  written.forEach((w, i) => {
    const next = written[i + 1]?.offset ?? 0;
    const d = directories.find((x) => x.offset === w.offset)!;
    const count = bigTiff ? Number(bytes.readBigUInt64LE(d.offset)) : bytes.readUInt16LE(d.offset);
    const pointerAt = d.offset + (bigTiff ? 8 : 2) + count * (bigTiff ? 20 : 12);
    if (bigTiff) bytes.writeBigUInt64LE(BigInt(next), pointerAt);
    else bytes.writeUInt32LE(next, pointerAt);
  });
  return { bytes, directories, bigTiff };
}

function encodeValues(type: number, values: number[]): Buffer {
  const size = { 1: 1, 7: 1, 3: 2, 4: 4, 13: 4, 5: 4, 16: 8, 18: 8 }[type as 1] ?? 4;
  const out = Buffer.alloc(values.length * size);
  values.forEach((v, i) => {
    if (size === 1) out.writeUInt8(v, i);
    else if (size === 2) out.writeUInt16LE(v, i * 2);
    else if (size === 4) out.writeUInt32LE(v, i * 4);
    else out.writeBigUInt64LE(BigInt(v), i * 8);
  });
  return out;
}

/** A libvips-style pyramid: each level half the one above, all tiled. */
export function pyramidImages(width: number, height: number, tileSize: number, levels: number, base: Partial<TestImage> = {}): TestImage[] {
  return Array.from({ length: levels }, (_, i) => {
    const scale = 2 ** i;
    return {
      ...base,
      width: Math.ceil(width / scale),
      height: Math.ceil(height / scale),
      tileSize,
      newSubfileType: i === 0 ? 0 : 1,
      pixel: (x: number, y: number) => tissuePixel(x * scale, y * scale),
    };
  });
}
