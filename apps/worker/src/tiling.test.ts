import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { derivedKeyOf, prepareSlideForViewing } from "@pathx/api";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore, openRangeReader } from "@pathx/storage";
import { openSlide } from "@pathx/wsi";
import { fixturePath, tissuePixel, writeTestTiff } from "@pathx/wsi/test-support";
import { tileSlide } from "./tiling";

let handle: DbHandle;
let store: ObjectStore;
let root: string;
const ids: Record<string, string> = {};

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "worker-"));
  store = createLocalStore(root);
  const db = handle.db;
  // North shares label and macro images with its members; South keeps them off the hub.
  const [a, b] = await db
    .insert(schema.labs)
    .values([
      { slug: "north", name: "North Lab", shareLabelMacro: true },
      { slug: "south", name: "South Lab" },
    ])
    .returning();
  const [kase, southCase] = await db
    .insert(schema.cases)
    .values([
      { labId: a!.id, accessionNumber: "N26-0042", patientPseudonym: "p1", specimen: "skin" },
      { labId: b!.id, accessionNumber: "S26-0007", patientPseudonym: "p2", specimen: "colon" },
    ])
    .returning();
  const svs = await readFile(fixturePath("CMU-1-Small-Region.svs"));
  await store.put("sources/cmu.svs", svs);
  await store.put("sources/south.svs", svs);
  await store.put("sources/bad.svs", Buffer.from("not a slide at all, just text"));
  const [good, bad, south] = await db
    .insert(schema.slides)
    .values([
      { labId: a!.id, caseId: kase!.id, block: "A1", stain: "H&E", fileName: "cmu.svs", sizeBytes: 1, sha256: "1", sourceKey: "sources/cmu.svs" },
      { labId: a!.id, caseId: kase!.id, block: "A2", stain: "H&E", fileName: "bad.svs", sizeBytes: 1, sha256: "2", sourceKey: "sources/bad.svs" },
      { labId: b!.id, caseId: southCase!.id, block: "1", stain: "H&E", fileName: "south.svs", sizeBytes: 1, sha256: "4", sourceKey: "sources/south.svs" },
    ])
    .returning();
  Object.assign(ids, { labA: a!.id, slide: good!.id, badSlide: bad!.id, southSlide: south!.id, case: kase!.id });
});
afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

describe("tiling a slide from the object store", () => {
  it("makes the slide viewable at once, then writes its thumbnail, derived pyramid and private label/macro: a handful of objects", async () => {
    expect(await prepareSlideForViewing(handle.db, store, ids.slide!)).toBe(true);
    const [viewable] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, ids.slide!));
    expect(viewable).toMatchObject({ status: "ready", width: 2220, height: 2967, mppX: 0.499, vendor: "aperio", progress: 0 });
    expect(viewable!.tilesPrefix).toMatch(new RegExp(`^pyramid/${ids.slide}/[0-9a-f]{12}$`));
    const fractions: number[] = [];
    expect(await tileSlide(handle.db, store, ids.slide!, { onProgress: (f) => fractions.push(f) })).toBe("done");
    const [row] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, ids.slide!));
    // The same pyramid version as when it became viewable: tile URLs handed out meanwhile stay valid.
    expect(row).toMatchObject({ status: "ready", progress: 1, tilesPrefix: viewable!.tilesPrefix });
    expect(fractions.at(-1)).toBe(1);
    expect(row!.labelKey).toBe(`private/${ids.slide}/label.jpg`);
    expect(row!.thumbnailKey).toBe(`${row!.tilesPrefix}/thumbnail.jpg`);
    const objects = [...(await store.list(`pyramid/${ids.slide}/`)), ...(await store.list(`private/${ids.slide}/`))]
      .map((o) => o.key.slice(o.key.lastIndexOf("/") + 1))
      .sort();
    // With the source: at most 5 objects per slide (source, derived pyramid, thumbnail, label, macro).
    expect(objects).toEqual(["derived.tiff", "label.jpg", "macro.jpg", "thumbnail.jpg"]);
    const derived = await openSlide(await openRangeReader(store, derivedKeyOf(row!.tilesPrefix!)));
    expect(derived.metadata.levels.length).toBeGreaterThan(0);
    await derived.close();
  });

  it("keeps no label or macro of a lab that does not share them, even when its source still has them", async () => {
    expect(await tileSlide(handle.db, store, ids.southSlide!)).toBe("done");
    const [row] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, ids.southSlide!));
    expect([row!.labelKey, row!.macroKey]).toEqual([null, null]);
    expect((await store.list(`private/${ids.southSlide}/`)).map((o) => o.key)).toEqual([]);
  });

  it("completes a slide once: a stale attempt taken over discards its result; a finished job's retry does nothing", async () => {
    const slideRow = async () => (await handle.db.select().from(schema.slides).where(eq(schema.slides.id, ids.slide!)))[0]!;
    const runsBefore = (await slideRow()).tilingRuns;
    // Attempt A of job-1 is held just before it stores the derived pyramid, as a worker that
    // stalled past its job's expiry; meanwhile the job's retry (attempt B) finishes the slide.
    let reached!: () => void;
    const atCommit = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stalled: ObjectStore = {
      ...store,
      async put(key, body, options) {
        if (key.endsWith("/derived.tiff")) {
          reached();
          await gate;
        }
        return store.put(key, body, options);
      },
    };
    const a = tileSlide(handle.db, stalled, ids.slide!, { jobId: "job-1" });
    await atCommit;
    expect(await tileSlide(handle.db, store, ids.slide!, { jobId: "job-1" })).toBe("done");
    const afterB = await slideRow();
    release();
    expect(await a).toBe("superseded");
    const afterA = await slideRow();
    expect(afterA).toMatchObject({ status: "ready", tilesPrefix: afterB.tilesPrefix, tilingRuns: runsBefore + 1 });
    expect(await store.head(derivedKeyOf(afterA.tilesPrefix!))).not.toBeNull();
    // The queue hands job-1 out again (its worker died before acknowledging): nothing to do.
    expect(await tileSlide(handle.db, store, ids.slide!, { jobId: "job-1" })).toBe("already-done");
    expect((await slideRow()).tilingRuns).toBe(runsBefore + 1);
  });

  it("records a reason the lab can act on when the file is not a slide", async () => {
    expect(await prepareSlideForViewing(handle.db, store, ids.badSlide!)).toBe(false);
    await expect(tileSlide(handle.db, store, ids.badSlide!)).rejects.toThrow();
    const [row] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, ids.badSlide!));
    expect(row).toMatchObject({ status: "failed" });
    expect(row!.failureReason).toMatch(/not a TIFF-based slide/);
    expect(await store.list(`pyramid/${ids.badSlide}`)).toEqual([]);
  });

  it("fails a slide whose header reads but whose tiles are damaged, though it was viewable at first", async () => {
    const bytes = Buffer.from(writeTestTiff([{ width: 2400, height: 2400, tileSize: 256, pixel: tissuePixel }]).bytes);
    // Past the directory the JPEG tiles turn to noise.
    for (let i = 70_000; i < bytes.length - 4096; i += 7) bytes[i] = (i * 31) & 0xff;
    await store.put("sources/damaged.tif", bytes);
    const [damaged] = await handle.db
      .insert(schema.slides)
      .values({
        labId: ids.labA!,
        caseId: ids.case!,
        block: "A3",
        stain: "H&E",
        fileName: "damaged.tif",
        sizeBytes: bytes.length,
        sha256: "3",
        sourceKey: "sources/damaged.tif",
      })
      .returning();
    expect(await prepareSlideForViewing(handle.db, store, damaged!.id)).toBe(true);
    await expect(tileSlide(handle.db, store, damaged!.id)).rejects.toThrow();
    const [row] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, damaged!.id));
    expect(row).toMatchObject({ status: "failed" });
    expect(row!.failureReason).toMatch(/damaged/);
  });
});
