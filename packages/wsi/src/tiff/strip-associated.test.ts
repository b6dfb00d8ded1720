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
