import { type AuditEntry, GENESIS_HASH, type SealedEntry, hashEntry } from "@pathx/audit";
import { type SQL, and, asc, desc, eq, isNull, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { auditEvents } from "./schema";

type AnyDb = PgDatabase<PgQueryResultHKT, Record<string, unknown>>;
type AuditRow = typeof auditEvents.$inferSelect;

/** The rows of one chain: a lab's, or the hub's own (null). */
export const inAuditChain = (labId: string | null) => (labId === null ? isNull(auditEvents.labId) : eq(auditEvents.labId, labId));

/**
 * Serialises the writers of one chain until the end of the calling transaction; other chains
 * write in parallel. Must run inside a transaction.
 */
export async function lockAuditChain(tx: AnyDb, labId: string | null): Promise<void> {
  await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtextextended(${labId ?? "hub"}, 0))`);
}

/** The entry as it is hashed (what `@pathx/audit` checks). */
export function auditEntryOf(
  row: Pick<AuditRow, "labId" | "seq" | "prevHash" | "createdAt" | "actorUserId" | "action" | "targetType" | "targetId" | "detail" | "ip">,
): AuditEntry {
  return {
    labId: row.labId,
    seq: row.seq,
    prevHash: row.prevHash ?? "",
    createdAt: row.createdAt.toISOString(),
    actorUserId: row.actorUserId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    detail: row.detail as Record<string, unknown>,
    ip: row.ip,
  };
}

export const sealedEntryOf = (row: AuditRow): SealedEntry => ({ ...auditEntryOf(row), hash: row.hash ?? "" });

/**
 * One page of a chain (entries after `afterSeq`, in sequence order) as JSON text, built by the
 * database as one value: reading 5 000 rows then costs one value to decode instead of 55 000
 * columns, and `JSON.parse` (native) does the rest; the hub's node route sends it on as is.
 * "tuples": an array of `EntryTuple`s (what verification reads); "objects": an array of
 * `SealedEntry` objects, exactly what `sealedEntryOf` gives for the same rows (what nodes
 * before the tuples asked for). Timestamps are cut to the millisecond as a JS Date cuts them
 * (floor), and a missing hash or previous hash reads "".
 *
 * The page is first asked for as the sequence range (afterSeq, afterSeq + limit]: sequence
 * numbers are unique within a chain, so when that range holds `limit` rows they are exactly the
 * page, and the database reads only them. Asked as "seq > afterSeq ORDER BY seq LIMIT n", a
 * database without statistics (PGlite never analyses by itself) fetches and sorts every later
 * entry of the chain for each page: 20 pages of a 100 000-entry chain read a million rows.
 * Fewer rows in the range (the chain's end, or a gap left by a deleted entry) take that query,
 * so the page is the same either way.
 */
export async function readAuditChainJson(
  db: AnyDb,
  labId: string | null,
  afterSeq: number,
  limit: number,
  shape: "tuples" | "objects" = "tuples",
): Promise<string> {
  const item =
    shape === "tuples"
      ? sql`json_build_array(seq, coalesce(prev_hash, ''), floor(extract(epoch FROM created_at) * 1000)::int8, actor_user_id, action, target_type, target_id, detail, ip, coalesce(hash, ''))`
      : sql`json_build_object('labId', lab_id, 'seq', seq, 'prevHash', coalesce(prev_hash, ''),
          'createdAt', to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'actorUserId', actor_user_id, 'action', action, 'targetType', target_type, 'targetId', target_id,
          'detail', detail, 'ip', ip, 'hash', coalesce(hash, ''))`;
  const page = async (entries: SQL) => {
    const result = await db.execute(sql`SELECT coalesce(json_agg(${item} ORDER BY seq), '[]')::text AS page, count(*)::int4 AS n FROM (${entries}) AS entries`);
    // postgres-js gives the rows, PGlite an object holding them.
    const rows = (Array.isArray(result) ? result : (result as unknown as { rows: unknown[] }).rows) as { page: string; n: number }[];
    return rows[0]!;
  };
  const inRange = await page(
    sql`SELECT * FROM ${auditEvents} WHERE ${inAuditChain(labId)} AND ${auditEvents.seq} > ${afterSeq} AND ${auditEvents.seq} <= ${afterSeq + limit}`,
  );
  if (Number(inRange.n) >= limit) return inRange.page;
  return (
    await page(sql`SELECT * FROM ${auditEvents} WHERE ${inAuditChain(labId)} AND ${auditEvents.seq} > ${afterSeq} ORDER BY ${auditEvents.seq} LIMIT ${limit}`)
  ).page;
}

/**
 * Seals the rows written before the chain existed (migration 0006 numbered them; their hash is
 * null): computes each one's previous hash and hash in sequence order. The trigger allows this
 * once per row. Idempotent; safe while other processes start too.
 */
export async function sealAuditChains(db: AnyDb): Promise<number> {
  // A database migrated only part of the way (tests of the migrations) has no chain yet.
  const chainColumns = await db.execute(sql`SELECT 1 FROM information_schema.columns WHERE table_name = 'audit_events' AND column_name = 'hash'`);
  if (!(chainColumns as unknown as { rows?: unknown[] }).rows?.length && !(Array.isArray(chainColumns) && chainColumns.length)) return 0;
  const chains = await db.selectDistinct({ labId: auditEvents.labId }).from(auditEvents).where(isNull(auditEvents.hash));
  let sealed = 0;
  for (const { labId } of chains) {
    sealed += await db.transaction(async (tx) => {
      await lockAuditChain(tx, labId);
      const rows = await tx.select().from(auditEvents).where(inAuditChain(labId)).orderBy(asc(auditEvents.seq));
      let prev = GENESIS_HASH;
      let count = 0;
      for (const row of rows) {
        if (row.hash === null) {
          const hash = hashEntry({ ...auditEntryOf(row), prevHash: prev });
          await tx
            .update(auditEvents)
            .set({ prevHash: prev, hash })
            .where(and(eq(auditEvents.id, row.id), isNull(auditEvents.hash)));
          prev = hash;
          count++;
        } else prev = row.hash;
      }
      return count;
    });
  }
  return sealed;
}

/** The chain's last entry (sequence number and hash); 0 and the genesis hash for an empty chain. */
export async function readAuditHead(db: AnyDb, labId: string | null): Promise<{ seq: number; hash: string | null }> {
  const [head] = await db
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .where(inAuditChain(labId))
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return head ?? { seq: 0, hash: GENESIS_HASH };
}
