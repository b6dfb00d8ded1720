import { asc, desc, eq, isNull } from "drizzle-orm";
import type { KeyObject } from "node:crypto";
import { type ChainReport, type Checkpoint, ChainVerifier, type SealedEntry, readPagesAhead, signCheckpoint } from "@pathx/audit";
import { type Db, readAuditHead, schema } from "@pathx/db";
import type { AuditSigningKey } from "../audit/signing-key";
import { readAuditChainPage } from "./audit";

const { auditCheckpoints, auditEvents } = schema;

const inCheckpointChain = (labId: string | null) => (labId === null ? isNull(auditCheckpoints.labId) : eq(auditCheckpoints.labId, labId));

const checkpointOf = (row: typeof auditCheckpoints.$inferSelect): Checkpoint => ({
  labId: row.labId,
  seq: row.seq,
  hash: row.hash,
  signedAt: row.signedAt.toISOString(),
  keyId: row.keyId,
  signature: row.signature,
});

/** A chain's signed checkpoints in sequence order (the latest `limit` when given). */
export async function listAuditCheckpoints(db: Db, labId: string | null, limit?: number): Promise<Checkpoint[]> {
  const base = db.select().from(auditCheckpoints).where(inCheckpointChain(labId));
  const rows = limit ? await base.orderBy(desc(auditCheckpoints.seq)).limit(limit) : await base.orderBy(asc(auditCheckpoints.seq));
  return rows.map(checkpointOf).sort((a, b) => a.seq - b.seq);
}

/**
 * Signs the chain's head unless the latest checkpoint already covers it; returns the latest
 * checkpoint (none for an empty chain). Several workers may race: one row per sequence number.
 */
export async function checkpointAuditChain(db: Db, key: AuditSigningKey, labId: string | null): Promise<Checkpoint | undefined> {
  const head = await readAuditHead(db, labId);
  const [latest] = await listAuditCheckpoints(db, labId, 1);
  if (head.seq === 0 || head.hash === null || (latest && latest.seq >= head.seq)) return latest;
  const signed = signCheckpoint(key.privateKey, { labId, seq: head.seq, hash: head.hash, signedAt: new Date().toISOString() });
  await db
    .insert(auditCheckpoints)
    .values({ ...signed, signedAt: new Date(signed.signedAt) })
    .onConflictDoNothing();
  const [stored] = await listAuditCheckpoints(db, labId, 1);
  return stored;
}

/** The worker's periodic job: a checkpoint of every chain that moved since its last one. */
export async function checkpointAllAuditChains(db: Db, key: AuditSigningKey): Promise<number> {
  const chains = await db.selectDistinct({ labId: auditEvents.labId }).from(auditEvents);
  let signed = 0;
  for (const { labId } of chains) {
    const before = (await listAuditCheckpoints(db, labId, 1))[0]?.seq;
    const after = await checkpointAuditChain(db, key, labId);
    if (after && after.seq !== before) signed++;
  }
  return signed;
}

/**
 * Walks a chain from its first entry, in pages, against the stored checkpoints and any the
 * caller brings (a node's witnesses): the first broken link, or OK. The next pages are asked for
 * before this one is read and hashed (`readPagesAhead`), so the database builds them meanwhile.
 */
export async function verifyAuditChain(
  db: Db,
  publicKey: KeyObject,
  labId: string | null,
  witnesses: Checkpoint[] = [],
  pageSize = 5000,
): Promise<ChainReport> {
  const verifier = new ChainVerifier(labId, [...(await listAuditCheckpoints(db, labId)), ...witnesses], publicKey);
  const pages = readPagesAhead(
    (after) => readAuditChainPage(db, labId, after, pageSize),
    (entry: SealedEntry) => entry.seq,
    pageSize,
  );
  for await (const page of pages) for (const entry of page) if (!verifier.add(entry)) return verifier.report();
  return verifier.report();
}

export interface AuditChainState {
  length: number;
  headHash: string | null;
  lastCheckpoint: { seq: number; signedAt: string } | null;
  keyId: string;
  verification: ChainReport;
}

/** What the admin page shows: the chain's length and head, its last checkpoint, and a fresh verification. */
export async function readAuditChainState(db: Db, key: AuditSigningKey, labId: string): Promise<AuditChainState> {
  const head = await readAuditHead(db, labId);
  const [latest] = await listAuditCheckpoints(db, labId, 1);
  return {
    length: head.seq,
    headHash: head.seq ? head.hash : null,
    lastCheckpoint: latest ? { seq: latest.seq, signedAt: latest.signedAt } : null,
    keyId: key.keyId,
    verification: await verifyAuditChain(db, key.publicKey, labId),
  };
}
