import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import {
  claimFetchOrders,
  describeFetch,
  failFetchOrder,
  findOpenOrder,
  readThumbnail,
  registerIndexedSlides,
  requestSlideFetch,
  type IndexRecord,
} from "./indexed-slides";
import { createEnrollmentToken, enrollNode, revokeNode } from "./nodes";
import { getLabSlide } from "./slides";
import { completeUpload, receiveChunk, startUpload } from "./uploads";

let handle: DbHandle;
let store: ObjectStore;
let root: string;
let labA: string;
let labB: string;
let user: string;
let nodeA: { id: string; labId: string };
let nodeB: { id: string; labId: string };

// A minimal JPEG start-of-image marker is all the hub checks; pixels are the node's business.
const thumbnail = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(60, 7)]).toString("base64");
const record = (ref: string, accession = "N26-0100", extra: Partial<IndexRecord> = {}): IndexRecord => ({
  ref,
  fileName: `${ref}.svs`,
  size: 1000,
  meta: { accessionNumber: accession, block: "A1", stain: "H&E", specimen: "skin", patientPseudonym: "pp-1" },
  image: { width: 4000, height: 3000, mppX: 0.25, mppY: 0.25, objectivePower: 40, vendor: "aperio" },
  thumbnail,
  ...extra,
});

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "indexed-"));
  store = createLocalStore(root);
  // Both labs share label and macro, so the hub stores the stand-in bytes these tests upload as they are.
  const [a, b] = await handle.db
    .insert(schema.labs)
    .values([
      { slug: "a", name: "A", shareLabelMacro: true },
      { slug: "b", name: "B", shareLabelMacro: true },
    ])
    .returning();
  const [u] = await handle.db.insert(schema.users).values({ email: "u@a.example", name: "U" }).returning();
  [labA, labB, user] = [a!.id, b!.id, u!.id];
  const enrolA = await enrollNode(handle.db, (await createEnrollmentToken(handle.db, labA, user)).token, { name: "a-node" });
  const enrolB = await enrollNode(handle.db, (await createEnrollmentToken(handle.db, labB, user)).token, { name: "b-node" });
  nodeA = { id: enrolA.nodeId, labId: labA };
  nodeB = { id: enrolB.nodeId, labId: labB };
});
afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

describe("index-only slides", () => {
  it("registers a batch once, under its cases, with thumbnails, and reports what it could not take", async () => {
    const batch = [
      record("ref-aaaaaaaaaaaaaaaa"),
      record("ref-bbbbbbbbbbbbbbbb", "N26-0101"),
      record("ref-cccccccccccccccc", "N26-0100", { fileName: "notes.docx" }),
    ];
    const first = await registerIndexedSlides(handle.db, store, nodeA, batch);
    expect(first).toEqual({ registered: 2, alreadyKnown: 0, rejected: [{ index: 2, reason: expect.stringMatching(/not a slide file/) }] });
    expect(await registerIndexedSlides(handle.db, store, nodeA, batch.slice(0, 2))).toMatchObject({ registered: 0, alreadyKnown: 2 });
    const rows = await handle.db.select().from(schema.slides).where(eq(schema.slides.labId, labA));
    expect(rows.map((r) => [r.status, r.sha256, r.sourceKey, r.width])).toEqual([
      ["indexed", null, null, 4000],
      ["indexed", null, null, 4000],
    ]);
    expect(await readThumbnail(store, rows[0]!.thumbnailKey!)).toEqual(Buffer.from(thumbnail, "base64"));
    expect(await readThumbnail(store, rows[1]!.thumbnailKey!)).toEqual(Buffer.from(thumbnail, "base64"));
    // Both thumbnails of the batch are in one object.
    expect(new Set(rows.map((r) => r.thumbnailKey!.split("#")[0])).size).toBe(1);
    const cases = await handle.db.select().from(schema.cases).where(eq(schema.cases.labId, labA));
    expect(cases.map((c) => c.accessionNumber).sort()).toEqual(["N26-0100", "N26-0101"]);
    expect(cases[0]!.patientPseudonym).toBe("pp-1");
  });

  it("registers each reference once when batches with the same references arrive at once", async () => {
    const refs = Array.from({ length: 30 }, (_, i) => `ref-race-${String(i).padStart(8, "0")}`);
    const batches = [refs.slice(0, 20), refs.slice(10, 30), refs].map((list) => list.map((ref, i) => record(ref, `N26-9${i % 4}`)));
    const answers = await Promise.all(batches.map((batch) => registerIndexedSlides(handle.db, store, nodeA, batch)));
    expect(answers.reduce((sum, a) => sum + a.registered, 0)).toBe(30);
    expect(answers.map((a) => a.registered + a.alreadyKnown)).toEqual([20, 20, 30]);
    const rows = await handle.db.select().from(schema.slides).where(eq(schema.slides.labId, labA));
    expect(
      rows
        .filter((r) => r.nodeRef!.startsWith("ref-race-"))
        .map((r) => r.nodeRef)
        .sort(),
    ).toEqual(refs);
    for (const row of rows.filter((r) => r.nodeRef!.startsWith("ref-race-")))
      expect(await readThumbnail(store, row.thumbnailKey!)).toEqual(Buffer.from(thumbnail, "base64"));
  });

  it("each slide's thumbnail is its own, whether the batch is all new or mixes known, rejected, repeated and bare records", async () => {
    const jpeg = (n: number) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(20 + n, n)]);
    const own = (ref: string, n: number, extra: Partial<IndexRecord> = {}) => record(ref, "N26-0700", { thumbnail: jpeg(n).toString("base64"), ...extra });
    const bad = { thumbnail: Buffer.from("<svg/>").toString("base64") };
    const firstRun = [own("ref-own-00000000001", 1), own("ref-own-00000000002", 2, bad), own("ref-own-00000000003", 3), own("ref-own-00000000004", 4)];
    expect(await registerIndexedSlides(handle.db, store, nodeA, firstRun)).toMatchObject({ registered: 3, alreadyKnown: 0, rejected: [{ index: 1 }] });
    const mixed = [
      own("ref-own-00000000005", 5),
      own("ref-own-00000000001", 1),
      own("ref-own-00000000006", 6),
      own("ref-own-00000000006", 7),
      own("ref-own-00000000008", 8, bad),
      own("ref-own-00000000009", 9, { thumbnail: undefined }),
      own("ref-own-00000000010", 10),
    ];
    expect(await registerIndexedSlides(handle.db, store, nodeA, mixed)).toMatchObject({ registered: 4, alreadyKnown: 1, rejected: [{ index: 4 }] });
    const rows = await handle.db.select().from(schema.slides).where(eq(schema.slides.labId, labA));
    const byRef = new Map(rows.map((r) => [r.nodeRef, r.thumbnailKey]));
    // A reference repeated in one batch counts once, with its last record.
    for (const [ref, n] of [
      ["01", 1],
      ["03", 3],
      ["04", 4],
      ["05", 5],
      ["06", 7],
      ["10", 10],
    ] as const)
      expect(await readThumbnail(store, byRef.get(`ref-own-000000000${ref}`)!)).toEqual(jpeg(n));
    expect(byRef.get("ref-own-00000000009")).toBeNull();
  });

  it("rejects a thumbnail that is not a JPEG", async () => {
    const answer = await registerIndexedSlides(handle.db, store, nodeA, [
      record("ref-dddddddddddddddd", "N26-0100", { thumbnail: Buffer.from("<svg/>").toString("base64") }),
    ]);
    expect(answer.rejected[0]!.reason).toMatch(/must be a JPEG/);
  });

  it("fetches on demand: order, claim by the right node only, upload fills the slide, which goes to tiling", async () => {
    const [slide] = await handle.db.select().from(schema.slides).where(eq(schema.slides.nodeRef, "ref-aaaaaaaaaaaaaaaa"));
    expect(await requestSlideFetch(handle.db, labA, slide!.id, user)).toEqual({ status: "fetching" });
    expect(await requestSlideFetch(handle.db, labA, slide!.id, user)).toEqual({ status: "fetching" });
    await expect(requestSlideFetch(handle.db, labB, slide!.id, user)).rejects.toThrow(/not found/);
    expect(await claimFetchOrders(handle.db, nodeB.id)).toEqual([]);
    const [order, ...more] = await claimFetchOrders(handle.db, nodeA.id);
    expect(more).toEqual([]);
    expect(order).toMatchObject({ slideId: slide!.id, ref: "ref-aaaaaaaaaaaaaaaa", fileName: "ref-aaaaaaaaaaaaaaaa.svs" });
    // Taken: not handed out again while the node works on it.
    expect(await claimFetchOrders(handle.db, nodeA.id)).toEqual([]);
    await expect(findOpenOrder(handle.db, nodeB.id, order!.orderId)).rejects.toThrow(/not found/);

    const file = Buffer.alloc(3000, 9);
    const sha = createHash("sha256").update(file).digest("hex");
    const start = await startUpload(
      handle.db,
      labA,
      null,
      { fileName: "x.svs", size: file.length, sha256: sha, meta: { accessionNumber: "ignored", block: "", stain: "", specimen: "" } },
      nodeA.id,
      slide!.id,
    );
    if (start.kind !== "open") throw new Error("expected an open upload");
    await receiveChunk(handle.db, store, labA, start.uploadId, 0, file, sha);
    expect((await describeFetch(handle.db, slide!.id))?.fraction).toBe(1);
    const queued: string[] = [];
    expect(await completeUpload(handle.db, store, async (id) => void queued.push(id), labA, start.uploadId)).toEqual({ slideId: slide!.id });
    expect(queued).toEqual([slide!.id]);
    const after = await getLabSlide(handle.db, labA, slide!.id);
    expect(after).toMatchObject({ status: "received", indexOnly: false, fetch: { status: "done" }, case: { accessionNumber: "N26-0100" } });
    const [row] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, slide!.id));
    expect(row!.sha256).toBe(sha);
    expect(await store.get(row!.sourceKey!)).toEqual(file);
    await expect(findOpenOrder(handle.db, nodeA.id, order!.orderId)).rejects.toThrow(/already fulfilled/);
  });

  it("says why when the node cannot send the file, and can be asked again", async () => {
    const [slide] = await handle.db.select().from(schema.slides).where(eq(schema.slides.nodeRef, "ref-bbbbbbbbbbbbbbbb"));
    await requestSlideFetch(handle.db, labA, slide!.id, user);
    const [order] = await claimFetchOrders(handle.db, nodeA.id);
    await failFetchOrder(handle.db, nodeA.id, order!.orderId, "the file is no longer in the archive");
    expect(await getLabSlide(handle.db, labA, slide!.id)).toMatchObject({
      status: "failed",
      indexOnly: true,
      failureReason: expect.stringMatching(/no longer in the archive/),
    });
    expect(await requestSlideFetch(handle.db, labA, slide!.id, user)).toEqual({ status: "fetching" });
    expect(await claimFetchOrders(handle.db, nodeA.id)).toHaveLength(1);
  });

  it("cannot be fetched through a revoked node", async () => {
    await registerIndexedSlides(handle.db, store, nodeB, [record("ref-eeeeeeeeeeeeeeee", "S26-1")]);
    const [slide] = await handle.db.select().from(schema.slides).where(eq(schema.slides.nodeRef, "ref-eeeeeeeeeeeeeeee"));
    await revokeNode(handle.db, labB, nodeB.id);
    expect(await requestSlideFetch(handle.db, labB, slide!.id, user)).toEqual({ status: "failed" });
    expect(await getLabSlide(handle.db, labB, slide!.id)).toMatchObject({ failureReason: expect.stringMatching(/revoked/) });
  });
});
