import { cp, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { generateKeyPairSync } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Db, type DbHandle, createDb, findMigrationsFolder, readAuditChainJson, readDbEnv, schema, sealedEntryOf } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { loadAuditSigningKey, type AuditSigningKey } from "../audit/signing-key";
import { readAuditChainPage, recordAudit } from "./audit";
import { checkpointAuditChain, verifyAuditChain } from "./audit-chain";

let handle: DbHandle;
let db: Db;
let key: AuditSigningKey;
let labId: string;
let dir: string;

beforeAll(async () => {
  handle = await createTestDb();
  db = handle.db;
  dir = await mkdtemp(join(tmpdir(), "audit-chain-"));
  key = await loadAuditSigningKey({ AUDIT_KEY_FILE: join(dir, "key.pem") });
});
afterAll(async () => {
  await handle.close();
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
beforeEach(async () => {
  const [lab] = await db
    .insert(schema.labs)
    .values({ slug: `lab-${++n}`, name: `Lab ${n}` })
    .returning();
  labId = lab!.id;
});

async function writeEntries(count: number, lab = labId) {
  for (let i = 1; i <= count; i++)
    await recordAudit(db, {
      labId: lab,
      actorUserId: null,
      action: "slide.view",
      targetType: "slide",
      targetId: `slide-${i}`,
      detail: { i, note: "é\u0001" },
      ip: "192.0.2.10",
    });
}

/** What a database owner can do despite the trigger: switch it off, change rows, switch it on. */
async function asOwnerBypassingTrigger(...statements: ReturnType<typeof sql>[]) {
  await db.execute(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`);
  try {
    for (const statement of statements) await db.execute(statement);
  } finally {
    await db.execute(sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`);
  }
}

const verify = (lab = labId) => verifyAuditChain(db, key.publicKey, lab, [], 7);

describe("the audit chain in the database", () => {
  it("chains entries per lab with gap-free sequence numbers that verify", async () => {
    await writeEntries(20);
    const report = await verify();
    expect(report).toMatchObject({ ok: true, length: 20 });
    const rows = await db
      .select({ seq: schema.auditEvents.seq })
      .from(schema.auditEvents)
      .where(eq(schema.auditEvents.labId, labId))
      .orderBy(schema.auditEvents.seq);
    expect(rows.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });

  it("reads pages as JSON text that give exactly the entries the rows hold", async () => {
    await writeEntries(9);
    await recordAudit(db, {
      labId,
      actorUserId: labId,
      action: "x",
      targetType: "t",
      targetId: "\u{1f600}",
      detail: { b: [1.5, null, { z: "\n" }], a: 1e21 },
      ip: null,
    });
    // Microseconds (a row written by hand) are cut as a JS Date cuts them, before and after 1970.
    await asOwnerBypassingTrigger(
      sql`UPDATE audit_events SET created_at = '2026-06-30 23:59:59.9996+02' WHERE lab_id = ${labId} AND seq = 3`,
      sql`UPDATE audit_events SET created_at = '1969-12-31 23:59:59.9996+00' WHERE lab_id = ${labId} AND seq = 4`,
    );
    const rows = await db.select().from(schema.auditEvents).where(eq(schema.auditEvents.labId, labId)).orderBy(schema.auditEvents.seq);
    const expected = rows.map(sealedEntryOf);
    expect(expected[2]!.createdAt).toBe("2026-06-30T21:59:59.999Z");
    const pages = [...(await readAuditChainPage(db, labId, 0, 4)), ...(await readAuditChainPage(db, labId, 4, 100))];
    expect(pages).toEqual(expected);
    expect(JSON.parse(await readAuditChainJson(db, labId, 0, 100, "objects"))).toEqual(expected);
    expect(await readAuditChainPage(db, labId, 10, 5)).toEqual([]);
  });

  it("reads the same pages across gaps (deleted entries) and at the chain's end as a plain ordered read", async () => {
    await writeEntries(15);
    await asOwnerBypassingTrigger(sql`DELETE FROM audit_events WHERE lab_id = ${labId} AND (seq = 4 OR seq BETWEEN 9 AND 12)`);
    const seqs = async (after: number, limit: number) => (await readAuditChainPage(db, labId, after, limit)).map((e) => e.seq);
    expect(await seqs(0, 3)).toEqual([1, 2, 3]);
    expect(await seqs(0, 4)).toEqual([1, 2, 3, 5]);
    expect(await seqs(5, 4)).toEqual([6, 7, 8, 13]);
    expect(await seqs(8, 2)).toEqual([13, 14]);
    expect(await seqs(13, 4)).toEqual([14, 15]);
    expect(await seqs(15, 4)).toEqual([]);
    expect(JSON.parse(await readAuditChainJson(db, labId, 0, 4, "objects")).map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 5]);
  });

  it("locates entries deleted at a page's end and a whole page deleted", async () => {
    await writeEntries(30);
    await asOwnerBypassingTrigger(sql`DELETE FROM audit_events WHERE lab_id = ${labId} AND seq BETWEEN 14 AND 21`);
    // Pages of 7: the first range ends at 7 (intact), the second, 8–14, lacks 14 and the third lies wholly in the gap.
    expect(await verify()).toMatchObject({ ok: false, length: 13, broken: { seq: 14, problem: expect.stringMatching(/entry 14 is missing/) } });
  });

  it("refuses UPDATE, DELETE, TRUNCATE and an insert that does not extend the chain", async () => {
    await writeEntries(3);
    await checkpointAuditChain(db, key, labId);
    const refusal = (s: ReturnType<typeof sql>) =>
      db.execute(s).then(
        () => "done",
        (e: Error & { cause?: Error }) => String(e.cause?.message ?? e.message),
      );
    expect(await refusal(sql`UPDATE audit_events SET action = 'nothing' WHERE lab_id = ${labId}`)).toMatch(/append-only: UPDATE refused/);
    expect(await refusal(sql`DELETE FROM audit_events WHERE lab_id = ${labId}`)).toMatch(/append-only: DELETE refused/);
    expect(await refusal(sql`TRUNCATE audit_events`)).toMatch(/append-only: TRUNCATE refused/);
    expect(await refusal(sql`DELETE FROM audit_checkpoints`)).toMatch(/append-only: DELETE refused/);
    expect(await refusal(sql`UPDATE audit_checkpoints SET seq = 1`)).toMatch(/append-only: UPDATE refused/);
    const forged = sql`INSERT INTO audit_events (lab_id, action, target_type, target_id, seq, prev_hash, hash) VALUES (${labId}, 'x', 'x', 'x', 9, ${"0".repeat(64)}, ${"f".repeat(64)})`;
    expect(await refusal(forged)).toMatch(/does not extend its chain/);
    expect(await verify()).toMatchObject({ ok: true, length: 3 });
  });

  it("locates an edited entry", async () => {
    await writeEntries(12);
    await asOwnerBypassingTrigger(sql`UPDATE audit_events SET target_id = 'another-slide' WHERE lab_id = ${labId} AND seq = 5`);
    expect(await verify()).toMatchObject({ ok: false, length: 4, broken: { seq: 5, problem: expect.stringMatching(/content was changed/) } });
  });

  it("locates a deleted entry", async () => {
    await writeEntries(12);
    await asOwnerBypassingTrigger(sql`DELETE FROM audit_events WHERE lab_id = ${labId} AND seq = 8`);
    expect(await verify()).toMatchObject({ ok: false, length: 7, broken: { seq: 8, problem: expect.stringMatching(/entry 8 is missing/) } });
  });

  it("locates reordered entries", async () => {
    await writeEntries(12);
    await asOwnerBypassingTrigger(
      sql`UPDATE audit_events SET seq = -3 WHERE lab_id = ${labId} AND seq = 3`,
      sql`UPDATE audit_events SET seq = 3 WHERE lab_id = ${labId} AND seq = 4`,
      sql`UPDATE audit_events SET seq = 4 WHERE lab_id = ${labId} AND seq = -3`,
    );
    expect(await verify()).toMatchObject({ ok: false, length: 2, broken: { seq: 3, problem: expect.stringMatching(/does not link/) } });
  });

  it("finds a truncated chain through its signed checkpoint", async () => {
    await writeEntries(10);
    expect(await checkpointAuditChain(db, key, labId)).toMatchObject({ seq: 10 });
    await asOwnerBypassingTrigger(sql`DELETE FROM audit_events WHERE lab_id = ${labId} AND seq > 6`);
    expect(await verify()).toMatchObject({ ok: false, length: 6, broken: { seq: 7, problem: expect.stringMatching(/truncated/) } });
  });

  it("finds a consistently rewritten history through a witness signed before, and a checkpoint forged with another key", async () => {
    await writeEntries(6);
    const witness = await checkpointAuditChain(db, key, labId);
    const other = generateKeyPairSync("ed25519");
    // Rewrite everything, re-hashing, as someone with the database (but not the key) could.
    await asOwnerBypassingTrigger(sql`DELETE FROM audit_events WHERE lab_id = ${labId}`);
    await db.execute(sql`ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only`);
    await db.execute(sql`DELETE FROM audit_checkpoints WHERE lab_id = ${labId}`);
    await db.execute(sql`ALTER TABLE audit_checkpoints ENABLE TRIGGER audit_checkpoints_append_only`);
    for (let i = 1; i <= 6; i++)
      await recordAudit(db, { labId, actorUserId: null, action: "slide.view", targetType: "slide", targetId: `forged-${i}`, ip: null });
    expect((await verify()).ok).toBe(true);
    expect(await verifyAuditChain(db, key.publicKey, labId, [witness!])).toMatchObject({
      ok: false,
      broken: { seq: 6, problem: expect.stringMatching(/differs from the checkpoint/) },
    });
    const forgedKey = await loadAuditSigningKey({
      AUDIT_SIGNING_KEY: other.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      AUDIT_KEY_FILE: "unused",
    });
    await checkpointAuditChain(db, forgedKey, labId);
    expect(await verify()).toMatchObject({ ok: false, broken: { seq: 6, problem: expect.stringMatching(/no valid signature/) } });
  });

  it("keeps 50 labs' chains gap-free when they all write at once", async () => {
    const labs = await db
      .insert(schema.labs)
      .values(Array.from({ length: 50 }, (_, i) => ({ slug: `many-${i}`, name: `Many ${i}` })))
      .returning();
    await Promise.all(
      labs.flatMap((lab) =>
        Array.from({ length: 8 }, (_, i) => recordAudit(db, { labId: lab.id, actorUserId: null, action: "member.add", targetType: "user", targetId: `u${i}` })),
      ),
    );
    for (const lab of labs) expect(await verify(lab.id), lab.slug).toMatchObject({ ok: true, length: 8 });
  });
});

describe("the signing key", () => {
  it("is created once, 0600, and read back the same by a second process", async () => {
    const file = join(dir, "sub", "audit.pem");
    const [a, b] = await Promise.all([loadAuditSigningKey({ AUDIT_KEY_FILE: file }), loadAuditSigningKey({ AUDIT_KEY_FILE: file })]);
    expect(a.keyId).toBe(b.keyId);
    const { stat } = await import("node:fs/promises");
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, "utf8")).toMatch(/BEGIN PRIVATE KEY/);
  });
});

describe("audit rows from before the chain", () => {
  it("are numbered in time order and sealed by the migration, then verify", async () => {
    // A database at migration 0005 with plain audit rows, then migrated to the chain.
    const folder = await mkdtemp(join(tmpdir(), "migrations-"));
    await cp(findMigrationsFolder(), folder, { recursive: true });
    const journalPath = join(folder, "meta/_journal.json");
    const journal = JSON.parse(await readFile(journalPath, "utf8")) as { entries: { tag: string }[] };
    const full = JSON.stringify(journal);
    journal.entries = journal.entries.filter((e) => e.tag < "0006");
    await writeFile(journalPath, JSON.stringify(journal));
    const old = await createDb(readDbEnv({ PGLITE_DIR: "memory://" }), { migrationsFolder: folder });
    try {
      await old.migrate();
      const [lab] = await old.db.insert(schema.labs).values({ slug: "old", name: "Old" }).returning();
      for (const [i, at] of ["2026-01-01T10:00:00.123456Z", "2026-01-01T09:00:00Z", "2026-01-02T00:00:00Z"].entries()) {
        await old.db.execute(
          sql`INSERT INTO audit_events (lab_id, action, target_type, target_id, detail, created_at) VALUES (${lab!.id}, 'slide.view', 'slide', ${`s${i}`}, '{"a":1}', ${at})`,
        );
      }
      await writeFile(journalPath, full);
      await old.migrate();
      const rows = await old.db.select({ targetId: schema.auditEvents.targetId }).from(schema.auditEvents).orderBy(schema.auditEvents.seq);
      expect(rows.map((r) => r.targetId)).toEqual(["s1", "s0", "s2"]);
      const report = await verifyAuditChain(old.db, key.publicKey, lab!.id);
      expect(report).toMatchObject({ ok: true, length: 3 });
      await recordAudit(old.db, { labId: lab!.id, actorUserId: null, action: "after", targetType: "x", targetId: "y" });
      expect(await verifyAuditChain(old.db, key.publicKey, lab!.id)).toMatchObject({ ok: true, length: 4 });
    } finally {
      await old.close();
      await rm(folder, { recursive: true, force: true });
    }
  });
});
