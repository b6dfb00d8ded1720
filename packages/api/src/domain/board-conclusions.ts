import { asc, eq, inArray } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { ApiError, notFound } from "../errors";
import type { BoardChannel } from "../live/board-channel";
import { recordAudit } from "./audit";
import { requireAgendaItem } from "./board-sessions";

const { boardConclusions, cases, users } = schema;

/**
 * What a board concluded on a case, kept whole: each member's contribution with its author and
 * time (nobody overwrites anybody), the chair's mark of the agreed conclusion (a later mark
 * supersedes, the earlier stays in the history), and after the session closed only signed
 * addenda: the record itself is read-only.
 */
type Deps = { db: Db; channel: BoardChannel };

function cleanText(text: string, what: string): string {
  const clean = text.trim();
  if (!clean) throw new ApiError("BAD_REQUEST", `Write the ${what} before saving it.`);
  return clean;
}

/** Every conclusion, mark and addendum goes into the audit chain of the case's lab. */
async function auditConclusion(db: Db, userId: string, sessionId: string, item: { id: string; caseId: string }, action: string, conclusionId: string) {
  const [kase] = await db.select({ labId: cases.labId }).from(cases).where(eq(cases.id, item.caseId));
  await recordAudit(db, {
    labId: kase?.labId ?? null,
    actorUserId: userId,
    action,
    targetType: "board_session",
    targetId: sessionId,
    detail: { itemId: item.id, caseId: item.caseId, conclusionId },
  });
}

/** Any member adds their contribution while the session is not closed. */
export async function addContribution(deps: Deps, userId: string, sessionId: string, itemId: string, text: string) {
  const { session, item } = await requireAgendaItem(deps.db, userId, sessionId, itemId);
  if (session.status === "closed") throw new ApiError("BAD_REQUEST", "The session is closed and its conclusions are final: add a signed addendum instead.");
  const [row] = await deps.db
    .insert(boardConclusions)
    .values({ itemId: item.id, kind: "contribution", authorUserId: userId, text: cleanText(text, "contribution") })
    .returning({ id: boardConclusions.id });
  await auditConclusion(deps.db, userId, session.id, item, "board.conclude", row!.id);
  await deps.channel.publish(session.id, { type: "agenda" });
  return { id: row!.id };
}

/** The chair marks one contribution as the board's agreed conclusion. */
export async function markAgreedConclusion(deps: Deps, userId: string, sessionId: string, itemId: string, contributionId: string) {
  const { session, board, item } = await requireAgendaItem(deps.db, userId, sessionId, itemId);
  if (board.chairUserId !== userId) throw new ApiError("FORBIDDEN", "Only the chair marks the agreed conclusion.");
  if (session.status === "closed") throw new ApiError("BAD_REQUEST", "The session is closed and its conclusions are final: add a signed addendum instead.");
  const [chosen] = /^[0-9a-f-]{36}$/i.test(contributionId)
    ? await deps.db.select().from(boardConclusions).where(eq(boardConclusions.id, contributionId)).limit(1)
    : [];
  if (!chosen || chosen.itemId !== item.id || chosen.kind !== "contribution") throw notFound("Contribution");
  const [row] = await deps.db
    .insert(boardConclusions)
    .values({ itemId: item.id, kind: "agreed", authorUserId: userId, text: chosen.text, basedOn: chosen.id })
    .returning({ id: boardConclusions.id });
  await auditConclusion(deps.db, userId, session.id, item, "board.agree", row!.id);
  await deps.channel.publish(session.id, { type: "agenda" });
}

/** After the session closed, a member corrects or completes the record with a signed addendum. */
export async function addAddendum(deps: Deps, userId: string, sessionId: string, itemId: string, text: string) {
  const { session, item } = await requireAgendaItem(deps.db, userId, sessionId, itemId);
  if (session.status !== "closed") throw new ApiError("BAD_REQUEST", "Addenda are for closed sessions: while the session is open, add a contribution.");
  const body = cleanText(text, "addendum");
  const [row] = await deps.db.insert(boardConclusions).values({ itemId: item.id, kind: "addendum", authorUserId: userId, text: body }).returning();
  await auditConclusion(deps.db, userId, session.id, item, "board.addendum", row!.id);
  await deps.channel.publish(session.id, { type: "agenda" });
  return { id: row!.id };
}

export interface ConclusionEntry {
  id: string;
  kind: "contribution" | "agreed" | "addendum";
  author: string;
  authorUserId: string;
  at: Date;
  text: string;
  basedOn: string | null;
}

/** Per agenda item: the full history in order, and the agreed conclusion in force (the chair's latest mark). */
export async function listConclusions(db: Db, itemIds: string[]) {
  const rows = itemIds.length
    ? await db
        .select({ c: boardConclusions, author: users.name })
        .from(boardConclusions)
        .innerJoin(users, eq(users.id, boardConclusions.authorUserId))
        .where(inArray(boardConclusions.itemId, itemIds))
        .orderBy(asc(boardConclusions.createdAt), asc(boardConclusions.id))
    : [];
  const byItem = new Map<string, { history: ConclusionEntry[]; agreed: (ConclusionEntry & { proposedBy: string | null }) | null }>();
  for (const id of itemIds) byItem.set(id, { history: [], agreed: null });
  for (const { c, author } of rows) {
    const entry: ConclusionEntry = { id: c.id, kind: c.kind, author, authorUserId: c.authorUserId, at: c.createdAt, text: c.text, basedOn: c.basedOn };
    const item = byItem.get(c.itemId)!;
    item.history.push(entry);
    if (c.kind === "agreed") item.agreed = { ...entry, proposedBy: item.history.find((h) => h.id === c.basedOn)?.author ?? null };
  }
  return byItem;
}
