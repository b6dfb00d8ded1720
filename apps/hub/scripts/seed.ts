import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TilingQueue } from "@pathx/api";
import { and, eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { openDataServices, openTilingQueue } from "@pathx/runtime";
import type { ObjectStore } from "@pathx/storage";
import { writeSyntheticSlide } from "@pathx/wsi/synthetic";
import { seedDemoUsers } from "../src/demo/demo-accounts";

/**
 * Migrates the database and, on first start only, seeds demo data: three labs, users of each
 * role, and slides the hub generates and tiles itself (one of them large).
 */
export async function seed(options: { demoSlides: boolean; env?: Record<string, string | undefined> }) {
  const { handle, db, store, databaseUrl } = await openDataServices(options.env);
  await handle.migrate();
  const queue = await openTilingQueue(databaseUrl);
  const existing = await db.select().from(schema.labs).limit(1);
  if (existing.length === 0) {
    console.log("First start: seeding demo labs, users and slides…");
    const labRows = await seedDemoUsers(db);
    if (options.demoSlides) await seedDemoSlides(db, store, queue, labRows);
  }
  await queue.stop();
  await handle.close();
}

// One demo patient with cases at North and South, so prior-study lookup has something to find.
const sharedPatient = `hmac-sha256:${createHash("sha256").update("demo patient 1").digest("hex")}`;

async function seedDemoSlides(db: Db, store: ObjectStore, queue: TilingQueue, labRows: (typeof schema.labs.$inferSelect)[]) {
  const work = join(tmpdir(), `pathx-seed-${process.pid}`);
  await mkdir(work, { recursive: true });
  // Generated stained sections (fragments of tissue on glass), written tile by tile; the large
  // one last, so the worker has the others ready first.
  const slides = [
    {
      lab: labRows[0]!,
      accession: "N26-0001",
      patient: sharedPatient,
      specimen: "Skin, left forearm, excision",
      block: "A1",
      stain: "H&E",
      slide: { width: 6000, height: 4500, micronsPerPixel: 0.5, seed: 1 },
    },
    {
      lab: labRows[0]!,
      accession: "N26-0001",
      patient: sharedPatient,
      specimen: "Skin, left forearm, excision",
      block: "A2",
      stain: "Ki-67",
      slide: { width: 3000, height: 2400, micronsPerPixel: 0.25, seed: 2, stain: "ki67" as const },
    },
    {
      lab: labRows[1]!,
      accession: "S26-1001",
      patient: sharedPatient,
      specimen: "Colon, sigmoid, polypectomy",
      block: "1",
      stain: "H&E",
      slide: { width: 4000, height: 3000, micronsPerPixel: 0.25, seed: 4 },
    },
    {
      lab: labRows[0]!,
      accession: "N26-0002",
      specimen: "Soft tissue, thigh, core biopsy",
      block: "B1",
      stain: "H&E",
      slide: { width: 40_000, height: 30_000, micronsPerPixel: 0.25, seed: 3 },
    },
  ];
  for (const s of slides) {
    const path = join(work, `${s.accession}-${s.block}.tif`);
    await writeSyntheticSlide(path, s.slide);
    const { size } = await stat(path);
    const sha256 = createHash("sha256");
    for await (const chunk of createReadStream(path)) sha256.update(chunk as Buffer);
    const [kase] = await db
      .insert(schema.cases)
      .values({
        labId: s.lab.id,
        accessionNumber: s.accession,
        patientPseudonym: s.patient ?? `demo-${s.accession}`,
        specimen: s.specimen,
        receivedAt: new Date(),
      })
      .onConflictDoNothing()
      .returning();
    const caseId = kase?.id ?? (await findCaseForLab(db, s.lab.id, s.accession));
    const sourceKey = `sources/${s.lab.slug}/${s.accession}-${s.block}.tif`;
    await store.put(sourceKey, createReadStream(path));
    const [slide] = await db
      .insert(schema.slides)
      .values({
        labId: s.lab.id,
        caseId,
        block: s.block,
        stain: s.stain,
        fileName: `${s.accession}-${s.block}.tif`,
        sizeBytes: size,
        sha256: sha256.digest("hex"),
        sourceKey,
      })
      .returning();
    await queue.enqueueTiling(slide!.id);
    console.log(`  ${s.accession} ${s.block} (${s.lab.slug}) queued for tiling`);
  }
  await rm(work, { recursive: true, force: true });
}

async function findCaseForLab(db: Db, labId: string, accession: string): Promise<string> {
  const [row] = await db
    .select({ id: schema.cases.id })
    .from(schema.cases)
    .where(and(eq(schema.cases.labId, labId), eq(schema.cases.accessionNumber, accession)));
  return row!.id;
}
