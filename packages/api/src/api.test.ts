import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import { fixturePath, tissuePixel, writeTestTiff } from "@pathx/wsi/test-support";
import { authenticateWithPassword } from "./domain/users";
import { hashPassword, verifyPassword } from "./domain/passwords";
import { prepareSlideForViewing } from "./domain/slide-viewing";
import { receiveChunk } from "./domain/uploads";
import { authenticateNode, enrollNode, revokeNode } from "./domain/nodes";
import { appRouter } from "./routers/index";
import { createCallerFactory, createContext } from "./trpc";

let handle: DbHandle;
let store: ObjectStore;
let root: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "api-"));
  store = createLocalStore(root);
  const db = handle.db;
  const [a, b] = await db
    .insert(schema.labs)
    .values([
      { slug: "north", name: "North Lab", shareLabelMacro: true },
      { slug: "south", name: "South Lab" },
    ])
    .returning();
  const passwordHash = await hashPassword("correct horse");
  const [pa, pb] = await db
    .insert(schema.users)
    .values([
      { email: "ana@north.example", name: "Ana", passwordHash },
      { email: "bo@south.example", name: "Bo", passwordHash },
    ])
    .returning();
  await db.insert(schema.memberships).values([
    { userId: pa!.id, labId: a!.id, role: "pathologist" },
    { userId: pb!.id, labId: b!.id, role: "lab_admin" },
  ]);
  const [kase] = await db.insert(schema.cases).values({ labId: a!.id, accessionNumber: "N26-0042", patientPseudonym: "p1", specimen: "skin" }).returning();
  await store.put("sources/cmu.svs", await readFile(fixturePath("CMU-1-Small-Region.svs")));
  await store.put("sources/bad.svs", Buffer.from("not a slide at all, just text"));
  const [good, bad] = await db
    .insert(schema.slides)
    .values([
      { labId: a!.id, caseId: kase!.id, block: "A1", stain: "H&E", fileName: "cmu.svs", sizeBytes: 1, sha256: "1", sourceKey: "sources/cmu.svs" },
      { labId: a!.id, caseId: kase!.id, block: "A2", stain: "H&E", fileName: "bad.svs", sizeBytes: 1, sha256: "2", sourceKey: "sources/bad.svs" },
    ])
    .returning();
  Object.assign(ids, { labA: a!.id, labB: b!.id, ana: pa!.id, bo: pb!.id, slide: good!.id, badSlide: bad!.id, case: kase!.id });
});
afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

const caller = async (userId: string | undefined) =>
  createCallerFactory(appRouter)(await createContext({ db: handle.db, store }, { headers: new Headers(), userId }));

describe("passwords", () => {
  it("hashes with a salt and verifies", async () => {
    const one = await hashPassword("pw");
    expect(one).not.toBe(await hashPassword("pw"));
    expect(await verifyPassword("pw", one)).toBe(true);
    expect(await verifyPassword("PW", one)).toBe(false);
    expect(await authenticateWithPassword(handle.db, "ANA@north.example ", "correct horse")).toMatchObject({ name: "Ana" });
    expect(await authenticateWithPassword(handle.db, "ana@north.example", "wrong")).toBeUndefined();
  });
});

describe("preparing a received slide for viewing", () => {
  // The background job that follows (derived pyramid, label/macro) is apps/worker's, tested there.
  it("makes the slide viewable at once under a new pyramid version, with its thumbnail when cheap", async () => {
    expect(await prepareSlideForViewing(handle.db, store, ids.slide!)).toBe(true);
    const [viewable] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, ids.slide!));
    expect(viewable).toMatchObject({ status: "ready", width: 2220, height: 2967, mppX: 0.499, vendor: "aperio", progress: 0 });
    expect(viewable!.tilesPrefix).toMatch(new RegExp(`^pyramid/${ids.slide}/[0-9a-f]{12}$`));
    expect(viewable!.thumbnailKey).toBe(`${viewable!.tilesPrefix}/thumbnail.jpg`);
    expect(await store.head(viewable!.thumbnailKey!)).not.toBeNull();
    // Once viewable, the version stays: tile URLs handed out meanwhile stay valid.
    expect(await prepareSlideForViewing(handle.db, store, ids.slide!)).toBe(true);
    const [again] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, ids.slide!));
    expect(again!.tilesPrefix).toBe(viewable!.tilesPrefix);
  });

  it("leaves a file that is not a slide to the background job, which records why", async () => {
    expect(await prepareSlideForViewing(handle.db, store, ids.badSlide!)).toBe(false);
    const [row] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, ids.badSlide!));
    expect(row!.status).not.toBe("ready");
    expect(await store.list(`pyramid/${ids.badSlide}`)).toEqual([]);
  });
});

describe("tRPC procedures and tenancy", () => {
  it("lists and opens the lab's own slides", async () => {
    const ana = await caller(ids.ana);
    const list = await ana.slides.list({ search: "n26-00" });
    expect(list.map((s) => s.accessionNumber)).toEqual(["N26-0042", "N26-0042"]);
    expect(JSON.stringify(list)).not.toContain("sources/"); // no storage keys leak
    expect((await ana.slides.get({ id: ids.slide! })).case.accessionNumber).toBe("N26-0042");
    expect((await ana.cases.get({ id: ids.case! })).slides).toHaveLength(2);
  });

  it("answers another lab's slide and case as NOT_FOUND, never FORBIDDEN", async () => {
    const bo = await caller(ids.bo);
    await expect(bo.slides.get({ id: ids.slide! })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(bo.cases.get({ id: ids.case! })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await bo.slides.list({})).toEqual([]);
  });

  it("requires sign-in", async () => {
    const anonymous = await caller(undefined);
    await expect(anonymous.slides.list({})).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(anonymous.me()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });
});

describe("lab administration", () => {
  it("only a lab admin manages members, and a lab keeps one admin", async () => {
    const ana = await caller(ids.ana);
    await expect(ana.members.list()).rejects.toMatchObject({ code: "FORBIDDEN" });
    const bo = await caller(ids.bo);
    expect((await bo.members.list()).map((m) => [m.email, m.role])).toEqual([["bo@south.example", "lab_admin"]]);
    await expect(bo.members.add({ labId: ids.labB!, email: "new@south.example", name: "New", role: "pathologist", password: "short" })).rejects.toMatchObject({
      code: "BAD_REQUEST",
    });
    await bo.members.add({ labId: ids.labB!, email: "New@South.example", name: "New Person", role: "pathologist", password: "a-long-first-password" });
    await expect(bo.members.add({ labId: ids.labB!, email: "new@south.example", name: "x", role: "pathologist" })).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(bo.members.setRole({ userId: ids.bo!, role: "pathologist" })).rejects.toThrow(/at least one administrator/);
    // Adding a member of another lab to this one is allowed; changing a non-member is not found.
    await expect(bo.members.setRole({ userId: ids.ana!, role: "lab_admin" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await authenticateWithPassword(handle.db, "new@south.example", "a-long-first-password")).toMatchObject({ name: "New Person" });
  });
});

describe("resumable uploads", () => {
  const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

  it("takes chunks with checksums, resumes, rejects damage, registers the slide once and queues it", async () => {
    // Uncompressed, so the file spans three 8 MiB chunks.
    const file = writeTestTiff([{ width: 2400, height: 2400, tileSize: 256, compression: "none", pixel: tissuePixel }]).bytes;
    expect(file.length).toBeGreaterThan(2 * 8 * 1024 * 1024);
    const queued: string[] = [];
    const api = createCallerFactory(appRouter)(
      await createContext({ db: handle.db, store, enqueueTiling: async (id) => void queued.push(id) }, { headers: new Headers(), userId: ids.ana }),
    );
    const meta = { accessionNumber: "N26-0500", block: "C1", stain: "H&E", specimen: "skin" };
    const start = await api.uploads.start({ fileName: "new.svs", size: file.length, sha256: sha(file), meta });
    expect(start).toMatchObject({ kind: "open", chunkCount: 3 });
    if (start.kind !== "open") return;
    const chunks = Array.from({ length: start.chunkCount }, (_, i) => file.subarray(i * start.chunkSize, (i + 1) * start.chunkSize));
    // A damaged chunk is refused and nothing is recorded for it.
    const damaged = Buffer.from(chunks[0]!);
    damaged[100] = damaged[100]! ^ 0xff;
    await expect(receiveChunk(handle.db, store, ids.labA!, start.uploadId, 0, damaged, sha(chunks[0]!))).rejects.toThrow(/damaged/);
    await expect(api.uploads.complete({ uploadId: start.uploadId })).rejects.toThrow(/not arrived/);
    // Another lab cannot see or feed this upload.
    await expect(receiveChunk(handle.db, store, ids.labB!, start.uploadId, 0, chunks[0]!, sha(chunks[0]!))).rejects.toMatchObject({ code: "NOT_FOUND" });
    await receiveChunk(handle.db, store, ids.labA!, start.uploadId, 0, chunks[0]!, sha(chunks[0]!));
    // Starting again with the same file resumes the same upload.
    const resumed = await api.uploads.start({ fileName: "new.svs", size: file.length, sha256: sha(file), meta });
    expect(resumed).toMatchObject({ kind: "open", uploadId: start.uploadId, received: [0] });
    for (let i = 1; i < chunks.length; i++) await receiveChunk(handle.db, store, ids.labA!, start.uploadId, i, chunks[i]!, sha(chunks[i]!));
    const done = await api.uploads.complete({ uploadId: start.uploadId });
    expect(await api.uploads.complete({ uploadId: start.uploadId })).toEqual(done);
    expect(queued).toEqual([done.slideId]);
    const slide = await api.slides.get({ id: done.slideId });
    // Viewable the moment the upload completes: the tile service serves it from its source.
    expect(slide).toMatchObject({ status: "ready", width: 2400, height: 2400, block: "C1", case: { accessionNumber: "N26-0500" } });
    expect(await store.list(`uploads/${start.uploadId}/`)).toEqual([]);
    const [row] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, done.slideId));
    expect(sha(await store.get(row!.sourceKey!))).toBe(sha(file));
    // The same file again is recognised, not uploaded twice.
    expect(await api.uploads.start({ fileName: "again.svs", size: file.length, sha256: sha(file), meta })).toEqual({
      kind: "duplicate",
      slideId: done.slideId,
    });
  });

  it("refuses what is not a slide file before any byte is sent", async () => {
    const api = await caller(ids.ana);
    const meta = { accessionNumber: "X", block: "", stain: "", specimen: "" };
    await expect(api.uploads.start({ fileName: "report.pdf", size: 1000, sha256: "a".repeat(64), meta })).rejects.toThrow(/not a slide file/);
    await expect(api.uploads.start({ fileName: "a.svs", size: 1000, sha256: "nothex", meta })).rejects.toThrow(/SHA-256/);
    // A DICOM header names the patient: only a lab node's de-identified copy is taken.
    await expect(api.uploads.start({ fileName: "slide.dcm", size: 1000, sha256: "a".repeat(64), meta })).rejects.toThrow(
      /publish DICOM slides with the lab's node/,
    );
  });
});

describe("lab nodes", () => {
  it("enrol with a one-time token, authenticate by credential, revoke", async () => {
    const bo = await caller(ids.bo);
    await expect((await caller(ids.ana)).nodes.createEnrollmentToken()).rejects.toMatchObject({ code: "FORBIDDEN" });
    const { token } = await bo.nodes.createEnrollmentToken();
    const enrolled = await enrollNode(handle.db, token, { name: "south-node-1", version: "0.1.0" });
    expect(enrolled.lab.slug).toBe("south");
    await expect(enrollNode(handle.db, token, { name: "again" })).rejects.toThrow(/unknown, used or expired/);
    const node = await authenticateNode(handle.db, enrolled.credential);
    expect(node).toMatchObject({ labId: ids.labB, name: "south-node-1" });
    expect(await authenticateNode(handle.db, "pxn_forged")).toBeUndefined();
    expect((await bo.nodes.list()).map((n) => n.name)).toEqual(["south-node-1"]);
    // Another lab's admin cannot revoke it; its own can, and then the credential stops working.
    await expect(revokeNode(handle.db, ids.labA!, enrolled.nodeId)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await bo.nodes.revoke({ nodeId: enrolled.nodeId });
    expect(await authenticateNode(handle.db, enrolled.credential)).toBeUndefined();
  });
});
