import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, createDb } from "./client";
import { readDbEnv } from "./env";
import { cases, labs, slides } from "./schema";
import { findSlideForLab } from "./tenant";
import { startLocalPostgres } from "./test-support/postgres";

let owner: DbHandle;
let app: DbHandle;
let stopPostgres = () => {};
beforeAll(async () => {
  const { databaseUrl, migrationUrl, stop } = startLocalPostgres();
  stopPostgres = stop;
  owner = await createDb(readDbEnv({ DATABASE_URL: migrationUrl }));
  await owner.migrate();
  app = await createDb(readDbEnv({ DATABASE_URL: databaseUrl }));
});
afterAll(async () => {
  await app?.close();
  await owner?.close();
  // Nothing left running after the tests (a later file starts it again in a second or two).
  stopPostgres();
});

describe("database on a real PostgreSQL server", () => {
  it("the same migrations apply (twice) and the app role works through them", async () => {
    expect(app.kind).toBe("postgres");
    await owner.migrate();
    const slug = `lab-${randomUUID().slice(0, 8)}`;
    const [lab] = await app.db.insert(labs).values({ slug, name: "Lab" }).returning();
    const [kase] = await app.db.insert(cases).values({ labId: lab!.id, accessionNumber: "A-1", patientPseudonym: "p" }).returning();
    const [slide] = await app.db
      .insert(slides)
      .values({ labId: lab!.id, caseId: kase!.id, fileName: "s.svs", sizeBytes: 1, sha256: slug, sourceKey: "k" })
      .returning();
    const [other] = await app.db
      .insert(labs)
      .values({ slug: `${slug}-b`, name: "Other" })
      .returning();
    expect((await findSlideForLab(app.db, lab!.id, slide!.id))?.fileName).toBe("s.svs");
    expect(await findSlideForLab(app.db, other!.id, slide!.id)).toBeNull();
    await expect(app.db.insert(cases).values({ labId: lab!.id, accessionNumber: "A-1", patientPseudonym: "q" })).rejects.toThrow();
  });

  it("the app role cannot change the schema", async () => {
    const error = await app.db.execute(sql`DROP TABLE audit_events`).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(String((error as Error & { cause?: unknown })?.cause)).toMatch(/must be owner|permission denied/);
  });
});
