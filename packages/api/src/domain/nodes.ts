import { createHash, randomBytes } from "node:crypto";
import { and, count, desc, eq, gt, isNull } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { ApiError, notFound } from "../errors";
import { recordAudit } from "./audit";

const { nodes, enrollmentTokens, labs, slides } = schema;
const hash = (secret: string) => createHash("sha256").update(secret).digest("hex");

/** A one-time enrolment token, valid 24 h; only its hash is kept. */
export async function createEnrollmentToken(db: Db, labId: string, userId: string) {
  const token = `pxe_${randomBytes(24).toString("base64url")}`;
  const expiresAt = new Date(Date.now() + 24 * 3600 * 1000);
  await db.insert(enrollmentTokens).values({ labId, tokenHash: hash(token), createdBy: userId, expiresAt });
  return { token, expiresAt };
}

/**
 * Exchanges an enrolment token for the node's own credential (shown once, kept only hashed).
 * The token is spent by one compare-and-set (UPDATE … WHERE used_at IS NULL RETURNING) in the
 * same transaction as the node row: of any number of concurrent redeems exactly one wins.
 */
export async function enrollNode(db: Db, token: string, input: { name: string; version?: string }) {
  const credential = `pxn_${randomBytes(32).toString("base64url")}`;
  const enrolled = await db.transaction(async (tx) => {
    const [spent] = await tx
      .update(enrollmentTokens)
      .set({ usedAt: new Date() })
      .where(and(eq(enrollmentTokens.tokenHash, hash(token)), isNull(enrollmentTokens.usedAt), gt(enrollmentTokens.expiresAt, new Date())))
      .returning({ id: enrollmentTokens.id, labId: enrollmentTokens.labId, createdBy: enrollmentTokens.createdBy });
    if (!spent) return undefined;
    const [node] = await tx
      .insert(nodes)
      .values({
        labId: spent.labId,
        name: input.name.trim().slice(0, 200) || "lab node",
        credentialHash: hash(credential),
        version: input.version?.slice(0, 100),
        lastSeenAt: new Date(),
      })
      .returning({ id: nodes.id, name: nodes.name });
    await tx.update(enrollmentTokens).set({ nodeId: node!.id }).where(eq(enrollmentTokens.id, spent.id));
    return { nodeId: node!.id, name: node!.name, labId: spent.labId, createdBy: spent.createdBy };
  });
  if (!enrolled) throw new ApiError("UNAUTHORIZED", "This enrolment token is unknown, used or expired; ask your lab administrator for a new one.");
  await recordAudit(db, {
    labId: enrolled.labId,
    actorUserId: null,
    action: "node.enrol",
    targetType: "node",
    targetId: enrolled.nodeId,
    detail: { name: enrolled.name, tokenCreatedBy: enrolled.createdBy },
  });
  const [lab] = await db.select({ slug: labs.slug, name: labs.name }).from(labs).where(eq(labs.id, enrolled.labId));
  return { nodeId: enrolled.nodeId, credential, lab: lab! };
}

/** The node behind a credential, if it is not revoked; records that it was seen. */
export async function authenticateNode(db: Db, credential: string, version?: string) {
  if (!credential.startsWith("pxn_")) return undefined;
  const [node] = await db
    .select()
    .from(nodes)
    .where(eq(nodes.credentialHash, hash(credential)))
    .limit(1);
  if (!node || node.revokedAt) return undefined;
  await db
    .update(nodes)
    .set({ lastSeenAt: new Date(), ...(version ? { version } : {}) })
    .where(eq(nodes.id, node.id));
  return { id: node.id, labId: node.labId, name: node.name };
}

export async function listLabNodes(db: Db, labId: string) {
  const rows = await db
    .select({
      id: nodes.id,
      name: nodes.name,
      version: nodes.version,
      lastSeenAt: nodes.lastSeenAt,
      queueDepth: nodes.queueDepth,
      lastError: nodes.lastError,
      revokedAt: nodes.revokedAt,
      createdAt: nodes.createdAt,
    })
    .from(nodes)
    .where(eq(nodes.labId, labId))
    .orderBy(desc(nodes.createdAt));
  const published = await db
    .select({ nodeId: slides.publishedByNodeId, slides: count() })
    .from(slides)
    .where(eq(slides.labId, labId))
    .groupBy(slides.publishedByNodeId);
  const byNode = new Map(published.map((p) => [p.nodeId, Number(p.slides)]));
  return rows.map((r) => ({ ...r, published: byNode.get(r.id) ?? 0 }));
}

/** What a node says about itself: slides waiting, and its last problem (null when none). */
export async function reportNodeStatus(db: Db, nodeId: string, status: { queueDepth: number; lastError: string | null }) {
  await db
    .update(nodes)
    .set({ queueDepth: Math.max(0, Math.min(1_000_000_000, Math.floor(status.queueDepth))), lastError: status.lastError?.slice(0, 1000) ?? null })
    .where(eq(nodes.id, nodeId));
}

export async function revokeNode(db: Db, labId: string, nodeId: string) {
  const [node] = await db
    .update(nodes)
    .set({ revokedAt: new Date() })
    .where(and(eq(nodes.labId, labId), eq(nodes.id, nodeId)))
    .returning({ id: nodes.id });
  if (!node) throw notFound("Node");
}
