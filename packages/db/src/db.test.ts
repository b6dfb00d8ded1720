import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "./client";
import { cases, labs, slides, users } from "./schema";
import { findSlideForLab } from "./tenant";
import { createTestDb } from "./test-support/memory";

let handle: DbHandle;
beforeAll(async () => {
  handle = await createTestDb();
});
afterAll(() => handle.close());

async function seedLabWithSlide(slug: string) {
  const db = handle.db;
  const [lab] = await db
    .insert(labs)
    .values({ slug, name: `Lab ${slug}` })
    .returning();
  const [kase] = await db.insert(cases).values({ labId: lab!.id, accessionNumber: "S26-0001", patientPseudonym: "p-abc" }).returning();
  const [slide] = await db
    .insert(slides)
    .values({ labId: lab!.id, caseId: kase!.id, fileName: "a.svs", sizeBytes: 10, sha256: `sha-${slug}`, sourceKey: `sources/${slug}` })
    .returning();
  return { lab: lab!, kase: kase!, slide: slide! };
}

describe("database", () => {
  it("migrates PGlite and enforces the schema's rules", async () => {
    const a = await seedLabWithSlide("a");
    expect(a.slide.status).toBe("received");
    await expect(handle.db.insert(cases).values({ labId: a.lab.id, accessionNumber: "S26-0001", patientPseudonym: "x" })).rejects.toThrow();
    await handle.db.insert(users).values({ email: "p@a.example", name: "P" });
    await expect(handle.db.insert(users).values({ email: "p@a.example", name: "Q" })).rejects.toThrow();
  });

  it("answers another lab's slide as not found", async () => {
    const b = await seedLabWithSlide("b");
    const c = await seedLabWithSlide("c");
    expect((await findSlideForLab(handle.db, b.lab.id, b.slide.id))?.id).toBe(b.slide.id);
    expect(await findSlideForLab(handle.db, c.lab.id, b.slide.id)).toBeNull();
  });

  it("running the migrations again changes nothing", async () => {
    await handle.migrate();
    const rows = await handle.db.select().from(labs);
    expect(rows.length).toBeGreaterThanOrEqual(3);
  });
});
