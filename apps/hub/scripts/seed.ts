import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type TilingQueue, createTilingQueue, hashPassword, startBoss } from "@pathx/api";
import { and, eq } from "drizzle-orm";
import { type Db, createDb, readDbEnv, schema } from "@pathx/db";
import { type ObjectStore, createObjectStore, readStorageEnv } from "@pathx/storage";
import { pyramidImages, tissuePixel, writeRepeatingSlide, writeTestTiff } from "@pathx/wsi/synthetic";

/**
 * Migrates the database and, on first start only, seeds demo data: three labs, users of each
 * role, and slides the hub generates and tiles itself (one of them large).
 */
export const demoPassword = "pathx-demo-2026";
const labs = [
  { slug: "north", name: "North Pathology Lab" },
  { slug: "south", name: "South University Hospital" },
  { slug: "east", name: "East Regional Lab" },
];

export async function seed(options: { demoSlides: boolean; env?: Record<string, string | undefined> }) {
  const dbEnv = readDbEnv(options.env);
  const storageEnv = readStorageEnv(options.env);
  const handle = await createDb({ ...dbEnv, PGLITE_DIR: resolve(dbEnv.PGLITE_DIR) });
  const store = createObjectStore({ ...storageEnv, STORAGE_DIR: resolve(storageEnv.STORAGE_DIR) });
  await handle.migrate();
  const db = handle.db;
  const boss = await startBoss(dbEnv.DATABASE_URL ?? "", { role: "sender" });
  const queue = createTilingQueue(boss);
  const existing = await db.select().from(schema.labs).limit(1);
  if (existing.length === 0) {
    console.log("First start: seeding demo labs, users and slides…");
    const passwordHash = await hashPassword(demoPassword);
    const labRows = await db.insert(schema.labs).values(labs).returning();
    const people = labRows.flatMap((lab) => [
      { email: `pathologist@${lab.slug}.example`, name: `Dr ${lab.slug[0]!.toUpperCase()}${lab.slug.slice(1)} Pathologist`, lab, role: "pathologist" as const },
      { email: `admin@${lab.slug}.example`, name: `${lab.name} admin`, lab, role: "lab_admin" as const },
    ]);
    for (const p of people) {
      const [user] = await db.insert(schema.users).values({ email: p.email, name: p.name, passwordHash }).returning();
      // Subspecialty pools for second opinions: South answers dermatopathology and soft tissue.
      const subspecialties = p.role === "pathologist" ? (p.lab.slug === "south" ? ["dermatopathology", "soft tissue"] : ["soft tissue"]) : [];
      await db.insert(schema.memberships).values({ userId: user!.id, labId: p.lab.id, role: p.role, subspecialties });
    }
    await db.insert(schema.users).values({ email: "hub-admin@pathx.example", name: "Hub administrator", passwordHash, isHubAdmin: true });

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
  const slides = [
    { lab: labRows[0]!, accession: "N26-0001", patient: sharedPatient, specimen: "Skin, left forearm, excision", block: "A1", stain: "H&E", make: async (path: string) => writeBytes(path, writeTestTiff(pyramidImages(6000, 4500, 256, 3, { pixelsPerCm: 20_000 })).bytes) },
    { lab: labRows[0]!, accession: "N26-0001", patient: sharedPatient, specimen: "Skin, left forearm, excision", block: "A2", stain: "Ki-67", make: async (path: string) => writeBytes(path, writeTestTiff([{ width: 3000, height: 2400, tileSize: 240, pixel: (x, y) => tissuePixel(y, x), pixelsPerCm: 40_000 }]).bytes) },
    { lab: labRows[0]!, accession: "N26-0002", specimen: "Soft tissue, thigh, core biopsy", block: "B1", stain: "H&E", make: (path: string) => writeRepeatingSlide(path, 40_000, 30_000, { micronsPerPixel: 0.25 }) },
    { lab: labRows[1]!, accession: "S26-1001", patient: sharedPatient, specimen: "Colon, sigmoid, polypectomy", block: "1", stain: "H&E", make: async (path: string) => writeBytes(path, writeTestTiff(pyramidImages(4000, 3000, 256, 2, { pixelsPerCm: 40_000 })).bytes) },
  ];
  for (const s of slides) {
    const path = join(work, `${s.accession}-${s.block}.tif`);
    await s.make(path);
    const bytes = await readFile(path);
    const [kase] = await db
      .insert(schema.cases)
      .values({ labId: s.lab.id, accessionNumber: s.accession, patientPseudonym: s.patient ?? `demo-${s.accession}`, specimen: s.specimen, receivedAt: new Date() })
      .onConflictDoNothing()
      .returning();
    const caseId = kase?.id ?? (await findCaseForLab(db, s.lab.id, s.accession));
    const sourceKey = `sources/${s.lab.slug}/${s.accession}-${s.block}.tif`;
    await store.put(sourceKey, bytes);
    const [slide] = await db
      .insert(schema.slides)
      .values({ labId: s.lab.id, caseId, block: s.block, stain: s.stain, fileName: `${s.accession}-${s.block}.tif`, sizeBytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), sourceKey })
      .returning();
    await queue.enqueueTiling(slide!.id);
    console.log(`  ${s.accession} ${s.block} (${s.lab.slug}) queued for tiling`);
  }
  await rm(work, { recursive: true, force: true });
}

async function writeBytes(path: string, bytes: Uint8Array) {
  await writeFile(path, bytes);
}

async function findCaseForLab(db: Db, labId: string, accession: string): Promise<string> {
  const [row] = await db.select({ id: schema.cases.id }).from(schema.cases).where(and(eq(schema.cases.labId, labId), eq(schema.cases.accessionNumber, accession)));
  return row!.id;
}

