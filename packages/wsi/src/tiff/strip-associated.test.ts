import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { openFileSource } from "../byte-source";
import { openSlide } from "../slide";
import { fixturePath } from "../test-support/fixtures";
import { writeSlideWithout } from "./strip-associated";

const work = await mkdtemp(join(tmpdir(), "strip-"));
afterAll(() => rm(work, { recursive: true, force: true }));

it("removes label and macro from an Aperio slide: unlinked, their bytes zeroed, the slide intact", async () => {
  const original = fixturePath("CMU-1-Small-Region.svs");
  const copy = join(work, "cmu-clean.svs");
  expect(await writeSlideWithout(original, copy, ["label", "macro"])).toEqual(["label", "macro"]);
  const before = await openSlide(await openFileSource(original));
  const after = await openSlide(await openFileSource(copy));
  expect(after.metadata.associated.map((a) => a.name)).toEqual(["thumbnail"]);
  expect(after.metadata.levels).toEqual(before.metadata.levels);
  expect(Buffer.compare((await after.readTile(0, 3, 3)).data, (await before.readTile(0, 3, 3)).data)).toBe(0);
  // The label's pixel bytes are gone from the file, not just unreferenced.
  const labelDir = (await import("./directory")).readTiff;
  const file = await labelDir(await openFileSource(original));
  const label = file.directories.find((d) => d.description.includes("label"))!;
  const chunks = await label.loadChunks();
  const bytes = await readFile(copy);
  const first = bytes.subarray(chunks.offsets[0]!, chunks.offsets[0]! + chunks.byteCounts[0]!);
  expect(first.every((b) => b === 0)).toBe(true);
  await before.close();
  await after.close();
});

it("removes the macro from an NDPI (8-byte directory links): unlinked, zeroed, OpenSlide still opens the slide", async () => {
  const { writeNdpi } = await import("../test-support/ndpi-writer");
  const { openslideProperties } = await import("../test-support/openslide-check");
  const { openSlideAt } = await import("../slide");
  const original = join(work, "case.ndpi");
  const written = await writeNdpi(original, {
    levels: [
      { width: 1024, height: 512, restartInterval: 16 },
      { width: 512, height: 256, restartInterval: 0 },
    ],
    macro: { width: 400, height: 120 },
    map: true,
  });
  const copy = join(work, "case-clean.ndpi");
  expect(await writeSlideWithout(original, copy, ["label", "macro"])).toEqual(["macro"]);
  const after = await openSlideAt(copy);
  expect(after.metadata.associated).toEqual([]);
  expect(after.metadata.levels.map((l) => [l.width, l.height])).toEqual([
    [1024, 512],
    [512, 256],
  ]);
  expect((await after.readTile(0, 1, 0)).width).toBe(512);
  await after.close();
  const macro = written.images[2]!;
  expect((await readFile(copy)).subarray(macro.stripOffset, macro.stripOffset + macro.byteCount).every((b) => b === 0)).toBe(true);
  expect((await openslideProperties(copy))["openslide.level[0].width"]).toBe("1024");
});
