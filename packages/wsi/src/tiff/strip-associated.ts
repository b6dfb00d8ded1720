import { copyFile, open, rename, rm } from "node:fs/promises";
import { openFileSource } from "../byte-source";
import { WsiError } from "../errors";
import { layoutSlide } from "../formats/index";
import type { AssociatedName } from "../formats/types";
import { readTiff } from "./directory";

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
    const file = await readTiff(source);
    const layout = layoutSlide(file, source.name);
    const targets = names.filter((n) => layout.associated[n]).map((n) => ({ name: n, directory: layout.associated[n]! }));
    await copyFile(path, partial);
    const out = await open(partial, "r+");
    try {
      const pointerSize = file.bigTiff ? 8 : 4;
      const readPointer = async (at: number) => {
        const bytes = Buffer.alloc(pointerSize);
        await out.read(bytes, 0, pointerSize, at);
        if (file.bigTiff) return Number(file.littleEndian ? bytes.readBigUInt64LE(0) : bytes.readBigUInt64BE(0));
        return file.littleEndian ? bytes.readUInt32LE(0) : bytes.readUInt32BE(0);
      };
      const writePointer = async (at: number, value: number) => {
        const bytes = Buffer.alloc(pointerSize);
        if (file.bigTiff) file.littleEndian ? bytes.writeBigUInt64LE(BigInt(value)) : bytes.writeBigUInt64BE(BigInt(value));
        else file.littleEndian ? bytes.writeUInt32LE(value) : bytes.writeUInt32BE(value);
        await out.write(bytes, 0, pointerSize, at);
      };
      // Where each main-chain directory keeps the offset of the next one.
      const nextPointerAt = async (ifdOffset: number) => {
        const countBytes = file.bigTiff ? 8 : 2;
        const head = Buffer.alloc(countBytes);
        await out.read(head, 0, countBytes, ifdOffset);
        const count = file.bigTiff
          ? Number(file.littleEndian ? head.readBigUInt64LE(0) : head.readBigUInt64BE(0))
          : file.littleEndian
            ? head.readUInt16LE(0)
            : head.readUInt16BE(0);
        return ifdOffset + countBytes + count * (file.bigTiff ? 20 : 12);
      };
      for (const { name, directory } of targets) {
        const chunks = await directory.loadChunks();
        for (let i = 0; i < chunks.offsets.length; i++) {
          await out.write(Buffer.alloc(chunks.byteCounts[i]!), 0, chunks.byteCounts[i]!, chunks.offsets[i]!);
        }
        // Unlink: whoever pointed at this directory now points past it.
        const next = await readPointer(await nextPointerAt(directory.offset));
        const firstAt = file.bigTiff ? 8 : 4;
        if ((await readPointer(firstAt)) === directory.offset) await writePointer(firstAt, next);
        for (const d of file.directories) {
          const at = await nextPointerAt(d.offset);
          if ((await readPointer(at)) === directory.offset) await writePointer(at, next);
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
    throw error instanceof WsiError ? error : new WsiError("IO_ERROR", `${source.name}: could not write a copy without ${names.join(" and ")} (${String(error)}).`, { cause: error });
  } finally {
    await source.close();
  }
}
