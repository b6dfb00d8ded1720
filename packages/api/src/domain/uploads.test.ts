import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore, openRangeReader } from "@pathx/storage";
import { openSlide } from "@pathx/wsi";
import { fixturePath } from "@pathx/wsi/test-support";
import { ApiError } from "../errors";
import { CHUNK_SIZE, completeUpload, expectChunk, receiveChunk, startUpload } from "./uploads";

let handle: DbHandle;
let store: ObjectStore;
let root: string;
let labId: string;

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "uploads-"));
  store = createLocalStore(root);
  // This lab lets the hub keep label and macro; lab "keeps" (the default policy) does not.
  const [lab] = await handle.db.insert(schema.labs).values({ slug: "a", name: "A", shareLabelMacro: true }).returning();
  labId = lab!.id;
});

afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function uploaded(file: Buffer, accession: string, lab = labId, userId: string | null = null) {
  const state = await startUpload(handle.db, lab, userId, {
    fileName: "s.svs",
    size: file.length,
    sha256: sha(file),
    meta: { accessionNumber: accession, block: "A1", stain: "H&E", specimen: "" },
  });
  if (state.kind !== "open") throw new Error("expected an open upload");
  for (let i = 0; i < state.chunkCount; i++) {
    const chunk = file.subarray(i * CHUNK_SIZE, (i + 1) * CHUNK_SIZE);
    await receiveChunk(handle.db, store, lab, state.uploadId, i, chunk, sha(chunk));
  }
  return state.uploadId;
}

it("gives one slide and calm answers when uploads.complete is called five times at once", async () => {
  const uploadId = await uploaded(Buffer.from("II*\0 a slide file of some bytes"), "C-1");
  const outcomes = await Promise.allSettled(Array.from({ length: 5 }, () => completeUpload(handle.db, store, async () => {}, labId, uploadId)));
  const slides = await handle.db.select().from(schema.slides).where(eq(schema.slides.labId, labId));
  expect(slides).toHaveLength(1);
  for (const outcome of outcomes) {
    if (outcome.status === "fulfilled") expect(outcome.value).toEqual({ slideId: slides[0]!.id });
    else expect(outcome.reason instanceof ApiError && outcome.reason.code === "CONFLICT", String(outcome.reason)).toBe(true);
  }
  expect(outcomes.some((o) => o.status === "fulfilled")).toBe(true);
  // Asked again once it is done: the same slide.
  expect(await completeUpload(handle.db, store, async () => {}, labId, uploadId)).toEqual({ slideId: slides[0]!.id });
});

it("says how many bytes a chunk must have before its body is read, and refuses an unknown upload", async () => {
  const file = Buffer.alloc(100, 1);
  const state = await startUpload(handle.db, labId, null, {
    fileName: "t.tif",
    size: file.length,
    sha256: sha(file),
    meta: { accessionNumber: "C-2", block: "A1", stain: "H&E", specimen: "" },
  });
  if (state.kind !== "open") throw new Error("expected an open upload");
  expect(await expectChunk(handle.db, labId, state.uploadId, 0)).toBe(100);
  await expect(expectChunk(handle.db, labId, "00000000-0000-4000-8000-000000000000", 0)).rejects.toMatchObject({ code: "NOT_FOUND" });
  await expect(expectChunk(handle.db, labId, "not-an-id", 0)).rejects.toMatchObject({ code: "NOT_FOUND" });
  await expect(expectChunk(handle.db, labId, state.uploadId, 1)).rejects.toMatchObject({ code: "BAD_REQUEST" });
});

it("strips label and macro from a browser upload of a lab that keeps them, before the source is stored", async () => {
  const [keeps] = await handle.db.insert(schema.labs).values({ slug: "keeps", name: "Keeps its labels" }).returning();
  const [user] = await handle.db.insert(schema.users).values({ email: "p@keeps.example", name: "P" }).returning();
  const file = await readFile(fixturePath("CMU-1-Small-Region.svs"));
  await store.put("fixture.svs", file);
  const original = await openSlide(await openRangeReader(store, "fixture.svs"));
  expect(original.metadata.associated.map((a) => a.name).sort()).toEqual(["label", "macro", "thumbnail"]);
  await original.close();
  const uploadId = await uploaded(file, "K-1", keeps!.id, user!.id);
  const { slideId } = await completeUpload(handle.db, store, async () => {}, keeps!.id, uploadId);
  const [slide] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, slideId));
  const stored = await openSlide(await openRangeReader(store, slide!.sourceKey!));
  expect(stored.metadata.associated.map((a) => a.name)).toEqual(["thumbnail"]);
  await stored.close();
  expect(slide!.sha256).toBe(sha(file)); // the file's identity stays the uploaded file's
  // The tiler keeps none either (apps/worker/src/tiling.test.ts).
  expect((await store.list(`private/${slideId}/`)).map((o) => o.key)).toEqual([]);
});
