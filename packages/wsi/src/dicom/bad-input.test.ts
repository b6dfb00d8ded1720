import { mkdtemp, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createMemorySource } from "../byte-source";
import type { WsiErrorCode } from "../errors";
import { openSlide, openSlideAt } from "../slide";
import { nonWsiDicom, type TestDicomOptions, writeTestDicomSeries } from "../test-support/dicom-series";

const work = await mkdtemp(join(tmpdir(), "pathx-dicom-bad-"));
afterAll(() => rm(work, { recursive: true, force: true }));

let counter = 0;
async function series(options: Partial<TestDicomOptions> = {}) {
  return writeTestDicomSeries(join(work, `s${counter++}`), { width: 600, height: 400, tileSize: 128, levels: 2, ...options });
}

/** Opens the slide and reads every tile of every level: the error must come, typed, and soon. */
async function openAndReadAll(open: () => Promise<Awaited<ReturnType<typeof openSlideAt>>>) {
  const slide = await open();
  try {
    for (const level of slide.metadata.levels) {
      for (let row = 0; row * level.tileHeight < level.height; row++) {
        for (let col = 0; col * level.tileWidth < level.width; col++) await slide.readTile(level.index, col, row);
      }
    }
  } finally {
    await slide.close();
  }
}

const cases: [string, () => Promise<() => Promise<unknown>>, WsiErrorCode, RegExp][] = [
  [
    "a truncated frame (file cut inside the last frame)",
    async () => {
      const s = await series();
      await truncate(s.files[0]!, (await readFile(s.files[0]!)).length - 500);
      return () => openAndReadAll(() => openSlideAt(s.dir));
    },
    "TRUNCATED",
    /truncated/,
  ],
  [
    "a truncated frame without an offset table (fragments walked)",
    async () => {
      const s = await series({ layout: { offsetTable: "empty" } });
      await truncate(s.files[0]!, (await readFile(s.files[0]!)).length - 3000);
      return () => openAndReadAll(() => openSlideAt(s.dir));
    },
    "TRUNCATED",
    /truncated/,
  ],
  [
    "an instance missing from a concatenation",
    async () => {
      const s = await series({ concatenationParts: 3 });
      await unlink(s.files[1]!);
      return () => openSlideAt(s.dir);
    },
    "CORRUPT",
    /concatenation of 3 instances, but instance 2 is missing/,
  ],
  [
    "one part of a concatenation opened alone",
    async () => {
      const s = await series({ concatenationParts: 2 });
      return () => openSlideAt(s.files[0]!);
    },
    "UNSUPPORTED_FORMAT",
    /open the series folder/,
  ],
  [
    "a DICOM file that is not a whole-slide image",
    async () => () => openSlide(createMemorySource(nonWsiDicom(), "ct.dcm")),
    "UNSUPPORTED_FORMAT",
    /not a whole-slide image/,
  ],
  [
    "a folder of instances of two series",
    async () => {
      const s = await series({ mixSeries: true });
      return () => openSlideAt(s.dir);
    },
    "UNSUPPORTED_FORMAT",
    /2 different DICOM series/,
  ],
  [
    "a folder with only a label",
    async () => {
      const s = await series({ label: true });
      await Promise.all(s.files.filter((f) => !f.endsWith("label.dcm")).map((f) => unlink(f)));
      return () => openSlideAt(s.dir);
    },
    "UNSUPPORTED_FORMAT",
    /no VOLUME image/,
  ],
  [
    "a header cut short",
    async () => {
      const s = await series();
      const bytes = await readFile(s.files[0]!);
      return () => openSlide(createMemorySource(bytes.subarray(0, 700), "cut.dcm"));
    },
    "TRUNCATED",
    /truncated/,
  ],
  [
    "garbage after the DICM magic",
    async () => {
      const bytes = Buffer.alloc(4096, 0xa7);
      bytes.write("DICM", 128, "latin1");
      return () => openSlide(createMemorySource(bytes, "garbage.dcm"));
    },
    "CORRUPT",
    /cannot be read|damaged/,
  ],
  [
    "a Basic Offset Table out of order (one offset past the end)",
    async () => {
      const s = await series({ levels: 1 });
      const bytes = await readFile(s.files[0]!);
      const pixelData = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42]));
      bytes.writeUInt32LE(0x7ffffff0, pixelData + 12 + 8 + 4 * 3); // the 4th frame's offset
      await writeFile(s.files[0]!, bytes);
      return () => openAndReadAll(() => openSlideAt(s.dir));
    },
    "CORRUPT",
    /not in ascending order/,
  ],
];

describe("bad DICOM input: one clear WsiError each, never a crash or a hang", () => {
  it.each(cases)("%s", { timeout: 20_000 }, async (_name, prepare, code, message) => {
    const attempt = await prepare();
    await expect(attempt()).rejects.toMatchObject({ name: "WsiError", code, message: expect.stringMatching(message) });
  });
});
