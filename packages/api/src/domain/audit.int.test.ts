import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, createDb, readDbEnv, schema } from "@pathx/db";
import { startLocalPostgres } from "@pathx/db/test-support/postgres";
import { recordAudit } from "./audit";

// Real PostgreSQL (infra/postgres.sh): the migrating owner and the app role the hub runs as.
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
  stopPostgres();
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => "done",
    (e: Error & { cause?: Error }) => String(e.cause?.message ?? e.message),
  );

describe("the audit trail on PostgreSQL", () => {
  it("lets the app role append but not change, delete, truncate or switch off the trigger", async () => {
    const [lab] = await app.db
      .insert(schema.labs)
      .values({ slug: `audit-${Date.now()}`, name: "Audit lab" })
      .returning();
    await recordAudit(app.db, { labId: lab!.id, actorUserId: null, action: "member.add", targetType: "user", targetId: "u1" });
    await recordAudit(app.db, { labId: lab!.id, actorUserId: null, action: "member.add", targetType: "user", targetId: "u2" });
    expect(await failure(app.db.execute(sql`UPDATE audit_events SET action = 'x' WHERE lab_id = ${lab!.id}`))).toMatch(/permission denied/);
    expect(await failure(app.db.execute(sql`DELETE FROM audit_events WHERE lab_id = ${lab!.id}`))).toMatch(/permission denied/);
    expect(await failure(app.db.execute(sql`TRUNCATE audit_events`))).toMatch(/permission denied/);
    expect(await failure(app.db.execute(sql`DELETE FROM audit_checkpoints`))).toMatch(/permission denied/);
    expect(await failure(app.db.execute(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`))).toMatch(/must be owner|permission denied/);
    // The owner has the privileges, and the trigger still refuses.
    expect(await failure(owner.db.execute(sql`DELETE FROM audit_events WHERE lab_id = ${lab!.id}`))).toMatch(/append-only: DELETE refused/);
    const rows = await app.db
      .select({ seq: schema.auditEvents.seq })
      .from(schema.auditEvents)
      .where(sql`${schema.auditEvents.labId} = ${lab!.id}`)
      .orderBy(schema.auditEvents.seq);
    expect(rows.map((r) => r.seq)).toEqual([1, 2]);
  });

  it("serialises one lab's writers across connections while 50 labs write at once", async () => {
    const labs = await app.db
      .insert(schema.labs)
      .values(Array.from({ length: 50 }, (_, i) => ({ slug: `pg-many-${Date.now()}-${i}`, name: `Lab ${i}` })))
      .returning();
    // Both handles (separate connection pools) write to every lab's chain at the same time.
    await Promise.all(
      labs.flatMap((lab) =>
        [app, owner, app, owner].map((h, i) =>
          recordAudit(h.db, { labId: lab.id, actorUserId: null, action: "slide.view", targetType: "slide", targetId: `s${i}` }),
        ),
      ),
    );
    const rows = await app.db.execute(
      sql`SELECT lab_id, count(*)::int AS n, max(seq)::int AS top FROM audit_events WHERE lab_id IN ${labs.map((l) => l.id)} GROUP BY lab_id`,
    );
    const list = (Array.isArray(rows) ? rows : (rows as unknown as { rows: unknown[] }).rows) as { n: number; top: number }[];
    expect(list).toHaveLength(50);
    for (const r of list) expect(r).toEqual(expect.objectContaining({ n: 4, top: 4 }));
  });
});
