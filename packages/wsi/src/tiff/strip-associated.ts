import { copyFile, open, rename, rm } from "node:fs/promises";
import { type ByteSource, openFileSource } from "../byte-source";
import { WsiError } from "../errors";
import { layoutSlide } from "../formats/index";
import type { AssociatedName } from "../formats/types";
import { readTiff } from "./directory";
import { isNdpi, readNdpiDirectories } from "./ndpi-directory";
import { Tag } from "./tags";

/**
 * Writes a copy of a slide without some of its pictures of the glass (label, macro show the
 * patient's name): their pixel bytes are overwritten with zeros and their directories are
 * unlinked from the TIFF chain, so no reader finds them and no byte of them leaves the lab.
 * Returns the names removed.
 */
export async function writeSlideWithout(path: string, destination: string, names: AssociatedName[]): Promise<AssociatedName[]> {
  const source = await openFileSource(path);
  let removed: AssociatedName[] = [];
  const partial = `${destination}.partial`;
  try {
    const shape = await describeChain(source, names);
    const targets = shape.targets;
    await copyFile(path, partial);
    const out = await open(partial, "r+");
    try {
      const { pointerSize, countBytes, entryBytes, littleEndian } = shape;
      const readUint = (bytes: Buffer, size: number) =>
        size === 8
          ? Number(littleEndian ? bytes.readBigUInt64LE(0) : bytes.readBigUInt64BE(0))
          : size === 4
            ? littleEndian
              ? bytes.readUInt32LE(0)
              : bytes.readUInt32BE(0)
            : littleEndian
              ? bytes.readUInt16LE(0)
              : bytes.readUInt16BE(0);
      const readPointer = async (at: number) => {
        const bytes = Buffer.alloc(pointerSize);
        await out.read(bytes, 0, pointerSize, at);
        return readUint(bytes, pointerSize);
      };
      const writePointer = async (at: number, value: number) => {
        const bytes = Buffer.alloc(pointerSize);
        if (pointerSize === 8) littleEndian ? bytes.writeBigUInt64LE(BigInt(value)) : bytes.writeBigUInt64BE(BigInt(value));
        else littleEndian ? bytes.writeUInt32LE(value) : bytes.writeUInt32BE(value);
        await out.write(bytes, 0, pointerSize, at);
      };
      // Where each main-chain directory keeps the offset of the next one.
      const nextPointerAt = async (ifdOffset: number) => {
        const head = Buffer.alloc(countBytes);
        await out.read(head, 0, countBytes, ifdOffset);
        return ifdOffset + countBytes + readUint(head, countBytes) * entryBytes;
      };
      for (const { name, offset, ranges } of targets) {
        for (const [at, length] of ranges) await out.write(Buffer.alloc(length), 0, length, at);
        // Unlink: whoever pointed at this directory now points past it.
        const next = await readPointer(await nextPointerAt(offset));
        if ((await readPointer(shape.firstAt)) === offset) await writePointer(shape.firstAt, next);
        for (const d of shape.directories) {
          const at = await nextPointerAt(d);
          if ((await readPointer(at)) === offset) await writePointer(at, next);
        }
        removed = [...removed, name];
      }
    } finally {
      await out.close();
    }
    await rename(partial, destination);
    return removed;
  } catch (error) {
    await rm(partial, { force: true });
    throw error instanceof WsiError
      ? error
      : new WsiError("IO_ERROR", `${source.name}: could not write a copy without ${names.join(" and ")} (${String(error)}).`, { cause: error });
  } finally {
    await source.close();
  }
}

interface ChainShape {
  littleEndian: boolean;
  pointerSize: 4 | 8;
  /** Where the header keeps the first directory's offset. */
  firstAt: number;
  countBytes: 2 | 8;
  entryBytes: number;
  /** Main-chain directory offsets. */
  directories: number[];
  targets: { name: AssociatedName; offset: number; ranges: [number, number][] }[];
}

/** The directory chain and the byte ranges of the named pictures: TIFF / BigTIFF, or NDPI (8-byte links, macro only). */
async function describeChain(source: ByteSource, names: AssociatedName[]): Promise<ChainShape> {
  const size = await source.size();
  const head = await source.read(0, Math.min(size, 16));
  if (await isNdpi(source, head, size)) {
    const directories = await readNdpiDirectories(source, head, size);
    const targets: ChainShape["targets"] = [];
    for (const d of directories) {
      if (!names.includes("macro") || (await d.number(Tag.NdpiSourceLens)) !== -1) continue;
      const at = await d.fileOffset(Tag.StripOffsets);
      const length = (await d.number(Tag.StripByteCounts)) ?? 0;
      targets.push({ name: "macro", offset: d.offset, ranges: at === undefined ? [] : [[at, length]] });
    }
    return { littleEndian: true, pointerSize: 8, firstAt: 4, countBytes: 2, entryBytes: 12, directories: directories.map((d) => d.offset), targets };
  }
  const file = await readTiff(source);
  const layout = layoutSlide(file, source.name);
  const targets: ChainShape["targets"] = [];
  for (const name of names) {
    const directory = layout.associated[name];
    if (!directory) continue;
    const chunks = await directory.loadChunks();
    targets.push({
      name,
      offset: directory.offset,
      ranges: Array.from({ length: chunks.offsets.length }, (_, i) => [chunks.offsets[i]!, chunks.byteCounts[i]!] as [number, number]),
    });
  }
  return {
    littleEndian: file.littleEndian,
    pointerSize: file.bigTiff ? 8 : 4,
    firstAt: file.bigTiff ? 8 : 4,
    countBytes: file.bigTiff ? 8 : 2,
    entryBytes: file.bigTiff ? 20 : 12,
    directories: file.directories.map((d) => d.offset),
    targets,
  };
}
