import type { ByteSource } from "../byte-source";
import { WsiError } from "../errors";
import { limits } from "../limits";
import { Tag, fieldTypeSize } from "./tags";

/**
 * Hamamatsu NDPI is classic little-endian TIFF pretending to be 64-bit: the first-IFD and
 * next-IFD offsets are 8 bytes, every other offset is the low 32 bits of a 64-bit one. As
 * OpenSlide does, the missing high bits are restored from the directory's own position: NDPI
 * writes each directory after the data it points to, so the value is the largest one below it.
 */
export function fixNdpiOffset(directoryOffset: number, low32: number): number {
  const high = Math.floor(directoryOffset / 2 ** 32) * 2 ** 32;
  const candidate = high + low32;
  return candidate >= directoryOffset && candidate >= 2 ** 32 ? candidate - 2 ** 32 : candidate;
}

interface Entry {
  type: number;
  count: number;
  /** Inline value bytes (≤ 4), or the restored offset of the value. */
  inline?: Uint8Array;
  offset?: number;
}

export interface NdpiDirectory {
  readonly index: number;
  readonly offset: number;
  has(tag: number): boolean;
  count(tag: number): number;
  /** Unsigned or signed integers (BYTE…SLONG); rationals and floats as numbers. */
  numbers(tag: number): Promise<number[]>;
  number(tag: number): Promise<number | undefined>;
  text(tag: number): Promise<string | undefined>;
  /** A value that is a file offset (StripOffsets), with its high bits restored. */
  fileOffset(tag: number): Promise<number | undefined>;
}

function readValues(bytes: Uint8Array, type: number, count: number): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    switch (type) {
      case 1:
      case 2:
      case 7:
        out[i] = view.getUint8(i);
        break;
      case 6:
        out[i] = view.getInt8(i);
        break;
      case 3:
        out[i] = view.getUint16(i * 2, true);
        break;
      case 8:
        out[i] = view.getInt16(i * 2, true);
        break;
      case 4:
      case 13:
        out[i] = view.getUint32(i * 4, true);
        break;
      case 9:
        out[i] = view.getInt32(i * 4, true);
        break;
      case 11:
        out[i] = view.getFloat32(i * 4, true);
        break;
      case 12:
        out[i] = view.getFloat64(i * 8, true);
        break;
      case 5:
        out[i] = view.getUint32(i * 8, true) / (view.getUint32(i * 8 + 4, true) || Number.NaN);
        break;
      case 10:
        out[i] = view.getInt32(i * 8, true) / (view.getInt32(i * 8 + 4, true) || Number.NaN);
        break;
      case 16:
      case 18:
        out[i] = Number(view.getBigUint64(i * 8, true));
        break;
      case 17:
        out[i] = Number(view.getBigInt64(i * 8, true));
        break;
      default:
        out[i] = Number.NaN;
    }
  }
  return out;
}

async function readDirectory(source: ByteSource, size: number, offset: number, index: number): Promise<{ directory: NdpiDirectory; next: number }> {
  const label = `${source.name}: NDPI directory ${index}`;
  if (offset < 8 || offset + 2 > size) {
    throw new WsiError(
      offset >= size ? "TRUNCATED" : "CORRUPT",
      `${label} starts at byte ${offset}, outside the file (${size} bytes); the file is damaged or truncated.`,
    );
  }
  const head = await source.read(offset, 2);
  const count = head[0]! | (head[1]! << 8);
  if (count === 0 || count > limits.maxEntriesPerDirectory) throw new WsiError("CORRUPT", `${label} claims ${count} entries; the file is damaged.`);
  const tableBytes = count * 12 + 8;
  if (offset + 2 + tableBytes > size) throw new WsiError("TRUNCATED", `${label} runs past the end of the file; it is probably truncated.`);
  const table = await source.read(offset + 2, tableBytes);
  const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const entries = new Map<number, Entry>();
  for (let i = 0; i < count; i++) {
    const at = i * 12;
    const tag = view.getUint16(at, true);
    const type = view.getUint16(at + 2, true);
    const n = view.getUint32(at + 4, true);
    const unit = fieldTypeSize[type];
    if (!unit) throw new WsiError("CORRUPT", `${label} has an entry of unknown TIFF field type ${type}; the file is damaged.`);
    const bytes = n * unit;
    if (bytes <= 4) {
      entries.set(tag, { type, count: n, inline: table.subarray(at + 8, at + 8 + bytes) });
    } else {
      const valueOffset = fixNdpiOffset(offset, view.getUint32(at + 8, true));
      if (bytes > limits.maxChunkBytes) throw new WsiError("TOO_LARGE", `${label} tag ${tag} holds ${bytes} bytes; refusing.`);
      if (valueOffset + bytes > size) {
        throw new WsiError(
          "TRUNCATED",
          `${label} tag ${tag} points to bytes ${valueOffset}–${valueOffset + bytes}, past the end of the file (${size} bytes); it is truncated.`,
        );
      }
      entries.set(tag, { type, count: n, offset: valueOffset });
    }
  }
  const next = Number(view.getBigUint64(count * 12, true));
  const valueBytes = async (e: Entry) => e.inline ?? source.read(e.offset!, e.count * fieldTypeSize[e.type]!);
  const directory: NdpiDirectory = {
    index,
    offset,
    has: (tag) => entries.has(tag),
    count: (tag) => entries.get(tag)?.count ?? 0,
    async numbers(tag) {
      const e = entries.get(tag);
      if (!e) return [];
      return readValues(await valueBytes(e), e.type, e.count);
    },
    async number(tag) {
      return (await directory.numbers(tag))[0];
    },
    async text(tag) {
      const e = entries.get(tag);
      if (!e) return undefined;
      if (e.count > limits.maxTextBytes) throw new WsiError("TOO_LARGE", `${label} tag ${tag} is ${e.count} bytes of text; refusing.`);
      return Buffer.from(await valueBytes(e))
        .toString("latin1")
        .replace(/\0+$/, "");
    },
    async fileOffset(tag) {
      const value = await directory.number(tag);
      return value === undefined ? undefined : fixNdpiOffset(offset, value);
    },
  };
  return { directory, next };
}

/** True when the bytes are an NDPI: little-endian classic TIFF whose first directory (at a 64-bit offset) has tag 65420. */
export async function isNdpi(source: ByteSource, head: Uint8Array, size: number): Promise<boolean> {
  if (head.length < 16 || Buffer.from(head.subarray(0, 4)).toString("latin1") !== "II*\0") return false;
  const first = Number(Buffer.from(head.buffer, head.byteOffset, head.byteLength).readBigUInt64LE(4));
  // An ordinary TIFF's first-IFD offset and its next bytes make a 64-bit offset past the end:
  // answered here, as an error built (stack trace and all) for every TIFF opened costs more.
  if (first < 8 || first + 2 > size) return false;
  try {
    const { directory } = await readDirectory(source, size, first, 0);
    return directory.has(Tag.NdpiFormatFlag);
  } catch {
    return false; // not an NDPI directory at that 64-bit offset: an ordinary TIFF
  }
}

export async function readNdpiDirectories(source: ByteSource, head: Uint8Array, size: number): Promise<NdpiDirectory[]> {
  let offset = Number(Buffer.from(head.buffer, head.byteOffset, head.byteLength).readBigUInt64LE(4));
  const seen = new Set<number>();
  const directories: NdpiDirectory[] = [];
  while (offset !== 0) {
    if (seen.has(offset)) throw new WsiError("CORRUPT", `${source.name}: the directory chain loops back to byte ${offset}; the file is damaged.`);
    if (seen.size >= limits.maxDirectories) throw new WsiError("TOO_LARGE", `${source.name}: more than ${limits.maxDirectories} image directories; refusing.`);
    seen.add(offset);
    const { directory, next } = await readDirectory(source, size, offset, directories.length);
    directories.push(directory);
    offset = next;
  }
  return directories;
}
