import { mkdtemp, open, readdir, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildDeepZoom } from "../deepzoom/build";
import { createFolderSink } from "../deepzoom/sink";
import type { WsiErrorCode } from "../errors";
import { openSlideAt } from "../slide";
import { type NdpiOptions, type WrittenNdpi, writeNdpi } from "../test-support/ndpi-writer";

const work = await mkdtemp(join(tmpdir(), "wsi-ndpi-bad-"));
afterAll(() => rm(work, { recursive: true, force: true }));

const small: NdpiOptions = {
  levels: [
    { width: 1024, height: 512, restartInterval: 16 },
    { width: 512, height: 256, restartInterval: 0 },
  ],
};

async function patch(path: string, at: number, bytes: number[] | Buffer) {
  const file = await open(path, "r+");
  await file.write(Buffer.from(bytes), 0, bytes.length, at);
  await file.close();
}
const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};

/** Each damage, like OpenSlide's own test suite: the file, written then broken. */
const cases: { name: string; options?: Partial<NdpiOptions>; damage: (path: string, w: WrittenNdpi) => Promise<void>; code: WsiErrorCode; message: RegExp }[] =
  [
    {
      name: "restart markers missing (and no McuStarts to say where they were)",
      options: { omitMcuStarts: true },
      damage: (path, w) => patch(path, w.images[0]!.stripOffset + w.images[0]!.mcuStarts[5]! - 2, [0xff, 0x00]),
      code: "CORRUPT",
      message: /found 254 restart markers where a 1024 × 512 image needs 255/,
    },
    {
      name: "a McuStarts entry past the image data (no marker there)",
      damage: async (path, w) => {
        const file = await open(path, "r");
        const pointer = Buffer.alloc(4);
        await file.read(pointer, 0, 4, w.images[0]!.entries.get(65426)! + 8);
        await file.close();
        await patch(path, pointer.readUInt32LE(0) + 3 * 4, u32(w.images[0]!.byteCount + 100));
        // …and a damaged marker, so the scan cannot rescue it either.
        await patch(path, w.images[0]!.stripOffset + w.images[0]!.mcuStarts[9]! - 2, [0xff, 0x00]);
      },
      code: "CORRUPT",
      message: /restart markers where/,
    },
    {
      name: "image data cut off (strip byte count past the end of the file)",
      damage: (path, w) => patch(path, w.images[0]!.entries.get(279)! + 8, u32(w.size * 2)),
      code: "TRUNCATED",
      message: /truncated/,
    },
    {
      name: "a file cut in half",
      damage: (path, w) => truncate(path, Math.floor(w.size / 2)),
      code: "TRUNCATED",
      message: /outside the file|truncated/,
    },
    {
      name: "JPEG size disagrees with the directory",
      damage: (path, w) => patch(path, w.images[0]!.entries.get(256)! + 8, u32(1040)),
      code: "CORRUPT",
      message: /the JPEG is 1024 × 512 but the directory says 1040 × 512/,
    },
    {
      name: "RowsPerStrip not the image height",
      damage: (path, w) => patch(path, w.images[1]!.entries.get(278)! + 8, u32(16)),
      code: "CORRUPT",
      message: /16 rows per strip for an image 256 high/,
    },
    {
      name: "a restart interval that does not divide the row",
      damage: async (path, w) => {
        const file = await open(path, "r");
        const header = Buffer.alloc(w.images[0]!.mcuStarts[0]!);
        await file.read(header, 0, header.length, w.images[0]!.stripOffset);
        await file.close();
        await patch(path, w.images[0]!.stripOffset + header.indexOf(Buffer.from([0xff, 0xdd])) + 4, [0, 5]);
      },
      code: "UNSUPPORTED_FORMAT",
      message: /restart intervals of 5 MCUs do not divide a row of 64 MCUs/,
    },
    {
      name: "a directory chain that loops",
      damage: (path, w) =>
        patch(path, w.images[1]!.ifdOffset + 2 + w.images[1]!.entries.size * 12, Buffer.from(new BigUint64Array([BigInt(w.images[0]!.ifdOffset)]).buffer)),
      code: "CORRUPT",
      message: /loops back/,
    },
    {
      name: "SourceLens missing",
      damage: (path, w) => patch(path, w.images[1]!.entries.get(65421)!, [0x10, 0xff]),
      code: "CORRUPT",
      message: /no SourceLens/,
    },
  ];

describe("NDPI bad input: one clear error each, never a crash or a hang", () => {
  for (const c of cases) {
    it(c.name, async () => {
      const path = join(work, `${c.name.replace(/\W+/g, "-")}.ndpi`);
      const written = await writeNdpi(path, { ...small, ...c.options });
      await c.damage(path, written);
      const out = join(work, `out-${Math.random().toString(36).slice(2)}`);
      const attempt = (async () => {
        const slide = await openSlideAt(path);
        try {
          await buildDeepZoom(slide, createFolderSink(out)); // some damage shows only when tiles are read
        } finally {
          await slide.close();
        }
      })();
      await expect(attempt).rejects.toMatchObject({ name: "WsiError", code: c.code, message: expect.stringMatching(c.message) });
      expect((await readdir(out).catch(() => [])).filter((f) => f.endsWith(".dzi"))).toEqual([]);
    });
  }
});
