import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import { ApiError } from "../errors";
import { completeUpload, expectChunk, receiveChunk, startUpload } from "./uploads";

let handle: DbHandle;
let store: ObjectStore;
let root: string;
let labId: string;

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "uploads-"));
  store = createLocalStore(root);
  const [lab] = await handle.db.insert(schema.labs).values({ slug: "a", name: "A" }).returning();
  labId = lab!.id;
});

afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function uploaded(file: Buffer, accession: string) {
  const state = await startUpload(handle.db, labId, null, { fileName: "s.tif", size: file.length, sha256: sha(file), meta: { accessionNumber: accession, block: "A1", stain: "H&E", specimen: "" } });
  if (state.kind !== "open") throw new Error("expected an open upload");
  await receiveChunk(handle.db, store, labId, state.uploadId, 0, file, sha(file));
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
  const state = await startUpload(handle.db, labId, null, { fileName: "t.tif", size: file.length, sha256: sha(file), meta: { accessionNumber: "C-2", block: "A1", stain: "H&E", specimen: "" } });
  if (state.kind !== "open") throw new Error("expected an open upload");
  expect(await expectChunk(handle.db, labId, state.uploadId, 0)).toBe(100);
  await expect(expectChunk(handle.db, labId, "00000000-0000-4000-8000-000000000000", 0)).rejects.toMatchObject({ code: "NOT_FOUND" });
  await expect(expectChunk(handle.db, labId, "not-an-id", 0)).rejects.toMatchObject({ code: "NOT_FOUND" });
  await expect(expectChunk(handle.db, labId, state.uploadId, 1)).rejects.toMatchObject({ code: "BAD_REQUEST" });
});
