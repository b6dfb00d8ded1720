import { and, desc, eq, inArray } from "drizzle-orm";
import { type EntryTuple, type SealedEntry, hashEntry, sealedEntryOfTuple } from "@pathx/audit";
import { type Db, lockAuditChain, readAuditChainJson, readAuditHead, schema, sealAuditChains } from "@pathx/db";
import { currentRequestOrigin } from "../audit/request-context";

const { auditEvents, users, labs } = schema;

export interface AuditEvent {
  /** The lab whose data was touched (its chain, listed to its admins); none: the hub's own chain. */
  labId?: string | null;
  /** Null for acts of a node or the hub itself. */
  actorUserId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  detail?: Record<string, unknown>;
  /** The client's address; by default the current request's (set by the transport). */
  ip?: string | null;
}

/**
 * Appends an entry to its lab's hash chain: under the chain's lock (writers of one lab
 * serialise, labs write in parallel), the next sequence number, the head's hash as the previous
 * hash, and the SHA-256 of the entry's canonical JSON. The database re-checks the link.
 */
export async function recordAudit(db: Db, event: AuditEvent): Promise<{ seq: number; hash: string }> {
  const labId = event.labId ?? null;
  // As jsonb will give it back (undefined members dropped, dates as strings), so the hash verifies later.
  const detail = JSON.parse(JSON.stringify(event.detail ?? {})) as Record<string, unknown>;
  const ip = event.ip !== undefined ? event.ip : (currentRequestOrigin()?.ip ?? null);
  return db.transaction(async (tx) => {
    await lockAuditChain(tx, labId);
    let head = await readAuditHead(tx, labId);
    if (head.hash === null) {
      // Rows from before the chain that no process has sealed yet.
      await sealAuditChains(tx);
      head = await readAuditHead(tx, labId);
    }
    const createdAt = new Date();
    const entry = {
      labId,
      seq: head.seq + 1,
      prevHash: head.hash!,
      createdAt: createdAt.toISOString(),
      actorUserId: event.actorUserId,
      action: event.action,
      targetType: event.targetType,
      targetId: event.targetId,
      detail,
      ip,
    };
    const hash = hashEntry(entry);
    await tx.insert(auditEvents).values({ ...entry, createdAt, hash });
    return { seq: entry.seq, hash };
  });
}

/** One page of a chain, in sequence order, as `@pathx/audit` verifies it. */
export async function readAuditChainPage(db: Db, labId: string | null, afterSeq: number, limit: number): Promise<SealedEntry[]> {
  const tuples = JSON.parse(await readAuditChainJson(db, labId, afterSeq, limit)) as EntryTuple[];
  return tuples.map((t) => sealedEntryOfTuple(labId, t));
}

/** Who from outside the lab viewed its slides, when and why: for the lab's administrators. */
export async function listRemoteViews(db: Db, labId: string, limit = 200) {
  const rows = await db
    .select({
      id: auditEvents.id,
      at: auditEvents.createdAt,
      action: auditEvents.action,
      slideId: auditEvents.targetId,
      detail: auditEvents.detail,
      viewer: users.name,
      viewerEmail: users.email,
    })
    .from(auditEvents)
    .leftJoin(users, eq(users.id, auditEvents.actorUserId))
    .where(and(eq(auditEvents.labId, labId), inArray(auditEvents.action, ["prior.open", "slide.view"])))
    .orderBy(desc(auditEvents.createdAt))
    .limit(limit);
  const labIds = [...new Set(rows.map((r) => (r.detail as { viewerLabId?: string }).viewerLabId).filter((x): x is string => Boolean(x)))];
  const names = labIds.length
    ? new Map((await db.select({ id: labs.id, name: labs.name }).from(labs).where(inArray(labs.id, labIds))).map((l) => [l.id, l.name]))
    : new Map();
  return rows.map((r) => {
    const detail = r.detail as { reason?: string; via?: string; viewerLabId?: string; accession?: string };
    return {
      id: r.id,
      at: r.at,
      action: r.action,
      slideId: r.slideId,
      viewer: r.viewer ?? "deleted user",
      viewerEmail: r.viewerEmail ?? "",
      viewerLab: (detail.viewerLabId && names.get(detail.viewerLabId)) ?? "",
      reason: detail.reason ?? (detail.via === "grant" ? "shared with them (consult or board)" : ""),
      accession: detail.accession ?? "",
    };
  });
}
