import { and, asc, count, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { ApiError, notFound } from "../errors";
import type { BoardChannel } from "../live/board-channel";
import { publishAccessRevocation } from "../events/revocations";
import { recordAudit } from "./audit";
import type { SessionUser } from "./users";

const { boards, boardMembers, boardSessions, boardAgendaItems, users, memberships, labs, slides, accessGrants } = schema;

export type BoardRow = typeof boards.$inferSelect;
export type BoardSessionRow = typeof boardSessions.$inferSelect;

/** Members of other labs keep seeing a session's slides this long after it ends (to finish the minutes). */
export const BOARD_GRANT_GRACE_HOURS = 24;

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The board, if the user is one of its members; for anyone else it does not exist. */
export async function requireBoardMember(db: Db, boardId: string, userId: string): Promise<BoardRow> {
  if (!uuidPattern.test(boardId)) throw notFound("Board");
  const [row] = await db
    .select({ board: boards })
    .from(boards)
    .innerJoin(boardMembers, and(eq(boardMembers.boardId, boards.id), eq(boardMembers.userId, userId)))
    .where(eq(boards.id, boardId))
    .limit(1);
  if (!row) throw notFound("Board");
  return row.board;
}

/** A session and its board, if the user is a member of the board. */
export async function requireSessionMember(db: Db, sessionId: string, userId: string): Promise<{ session: BoardSessionRow; board: BoardRow }> {
  if (!uuidPattern.test(sessionId)) throw notFound("Session");
  const [row] = await db
    .select({ session: boardSessions, board: boards })
    .from(boardSessions)
    .innerJoin(boards, eq(boards.id, boardSessions.boardId))
    .innerJoin(boardMembers, and(eq(boardMembers.boardId, boards.id), eq(boardMembers.userId, userId)))
    .where(eq(boardSessions.id, sessionId))
    .limit(1);
  if (!row) throw notFound("Session");
  return row;
}

export function requireChair(board: BoardRow, userId: string, what: string): void {
  if (board.chairUserId !== userId) throw new ApiError("FORBIDDEN", `Only the board's chair can ${what}.`);
}

/** Members with the labs they belong to (a grant is needed only outside those labs). */
export async function listBoardMembers(db: Db, boardId: string) {
  const rows = await db
    .select({ userId: users.id, name: users.name, email: users.email, labId: labs.id, labName: labs.name })
    .from(boardMembers)
    .innerJoin(users, eq(users.id, boardMembers.userId))
    .leftJoin(memberships, eq(memberships.userId, users.id))
    .leftJoin(labs, eq(labs.id, memberships.labId))
    .where(eq(boardMembers.boardId, boardId))
    .orderBy(asc(users.name), asc(labs.name));
  const byUser = new Map<string, { userId: string; name: string; email: string; labIds: string[]; labNames: string[] }>();
  for (const r of rows) {
    const member = byUser.get(r.userId) ?? { userId: r.userId, name: r.name, email: r.email, labIds: [], labNames: [] };
    if (r.labId && r.labName) {
      member.labIds.push(r.labId);
      member.labNames.push(r.labName);
    }
    byUser.set(r.userId, member);
  }
  return [...byUser.values()];
}

/** Any pathologist may create a board; they chair it and are its first member. */
export async function createBoard(db: Db, user: SessionUser, name: string) {
  if (!user.memberships.some((m) => m.role === "pathologist")) throw new ApiError("FORBIDDEN", "Only pathologists can create a tumor board.");
  const trimmed = name.trim();
  if (!trimmed) throw new ApiError("BAD_REQUEST", "Give the board a name, e.g. “Regional sarcoma panel”.");
  const [board] = await db.insert(boards).values({ name: trimmed, chairUserId: user.id }).returning();
  await db.insert(boardMembers).values({ boardId: board!.id, userId: user.id });
  await recordAudit(db, { actorUserId: user.id, action: "board.create", targetType: "board", targetId: board!.id, detail: { name: trimmed } });
  return { id: board!.id };
}

export async function listMyBoards(db: Db, userId: string) {
  const mine = await db
    .select({ id: boards.id, name: boards.name, chairUserId: boards.chairUserId, chairName: users.name })
    .from(boards)
    .innerJoin(boardMembers, and(eq(boardMembers.boardId, boards.id), eq(boardMembers.userId, userId)))
    .innerJoin(users, eq(users.id, boards.chairUserId))
    .orderBy(asc(boards.name));
  if (mine.length === 0) return [];
  const ids = mine.map((b) => b.id);
  const memberCounts = await db
    .select({ boardId: boardMembers.boardId, n: count() })
    .from(boardMembers)
    .where(inArray(boardMembers.boardId, ids))
    .groupBy(boardMembers.boardId);
  const next = await db
    .select({ boardId: boardSessions.boardId, at: sql<Date>`min(${boardSessions.scheduledAt})`.mapWith(boardSessions.scheduledAt) })
    .from(boardSessions)
    .where(and(inArray(boardSessions.boardId, ids), ne(boardSessions.status, "closed")))
    .groupBy(boardSessions.boardId);
  return mine.map((b) => ({
    ...b,
    isChair: b.chairUserId === userId,
    members: memberCounts.find((c) => c.boardId === b.id)?.n ?? 0,
    nextSessionAt: next.find((n) => n.boardId === b.id)?.at ?? null,
  }));
}

export async function getBoard(db: Db, userId: string, boardId: string) {
  const board = await requireBoardMember(db, boardId, userId);
  const members = await listBoardMembers(db, board.id);
  const sessions = await db
    .select({
      id: boardSessions.id,
      scheduledAt: boardSessions.scheduledAt,
      status: boardSessions.status,
      endedAt: boardSessions.endedAt,
      cases: count(boardAgendaItems.id),
    })
    .from(boardSessions)
    .leftJoin(boardAgendaItems, eq(boardAgendaItems.sessionId, boardSessions.id))
    .where(eq(boardSessions.boardId, board.id))
    .groupBy(boardSessions.id)
    .orderBy(asc(boardSessions.scheduledAt));
  return { id: board.id, name: board.name, chairUserId: board.chairUserId, isChair: board.chairUserId === userId, members, sessions };
}

/** The chair adds a person of any lab by the email they sign in with. */
export async function addBoardMember(db: Db, chairId: string, boardId: string, email: string) {
  const board = await requireBoardMember(db, boardId, chairId);
  requireChair(board, chairId, "add members");
  const address = email.trim().toLowerCase();
  // The same answer whether or not the address has an account or a lab: no account enumeration.
  const answer = { email: address, message: `If ${address} signs in to the hub as a member of a lab, they are now a member of this board.` };
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, address)).limit(1);
  if (!user) return answer;
  const [lab] = await db.select({ labId: memberships.labId }).from(memberships).where(eq(memberships.userId, user.id)).limit(1);
  if (!lab) return answer;
  const added = await db.insert(boardMembers).values({ boardId: board.id, userId: user.id }).onConflictDoNothing().returning();
  if (added.length === 0) return answer;
  // Sessions still to come (or running) share their agenda slides with the new member too.
  const open = await db
    .select({ id: boardSessions.id })
    .from(boardSessions)
    .where(and(eq(boardSessions.boardId, board.id), ne(boardSessions.status, "closed")));
  for (const s of open) await syncSessionGrants(db, s.id);
  await recordAudit(db, { actorUserId: chairId, action: "board.member.add", targetType: "board", targetId: board.id, detail: { userId: user.id } });
  return answer;
}

/**
 * The chair removes a member: their board grants are revoked at once, a live session they
 * presented goes back to the chair, and their open live connections are closed.
 */
export async function removeBoardMember(deps: { db: Db; channel: BoardChannel }, chairId: string, boardId: string, userId: string) {
  const { db, channel } = deps;
  const board = await requireBoardMember(db, boardId, chairId);
  requireChair(board, chairId, "remove members");
  if (userId === board.chairUserId) throw new ApiError("BAD_REQUEST", "The chair cannot be removed from the board.");
  const removed = await db
    .delete(boardMembers)
    .where(and(eq(boardMembers.boardId, board.id), eq(boardMembers.userId, userId)))
    .returning();
  if (removed.length === 0) throw notFound("Member");
  const sessions = await db
    .select({ id: boardSessions.id, status: boardSessions.status, presenterUserId: boardSessions.presenterUserId })
    .from(boardSessions)
    .where(eq(boardSessions.boardId, board.id));
  const revoked =
    sessions.length > 0
      ? await db
          .update(accessGrants)
          .set({ revokedAt: new Date() })
          .where(
            and(
              eq(accessGrants.granteeUserId, userId),
              eq(accessGrants.reason, "board"),
              inArray(
                accessGrants.sourceId,
                sessions.map((s) => s.id),
              ),
              isNull(accessGrants.revokedAt),
            ),
          )
          .returning({ userId: accessGrants.granteeUserId, slideId: accessGrants.slideId })
      : [];
  // Their tiles stop within seconds and their open event streams (the board's live view) end.
  await publishAccessRevocation(db, { pairs: revoked, streamUserIds: [userId] });
  const [chair] = await db.select({ name: users.name }).from(users).where(eq(users.id, board.chairUserId));
  for (const s of sessions) {
    if (s.status === "live" && s.presenterUserId === userId) {
      await db.update(boardSessions).set({ presenterUserId: board.chairUserId }).where(eq(boardSessions.id, s.id));
      await channel.publish(s.id, { type: "presenter", presenterUserId: board.chairUserId, presenterName: chair!.name });
    }
    await channel.publish(s.id, { type: "member-removed", userId });
  }
  await recordAudit(db, { actorUserId: chairId, action: "board.member.remove", targetType: "board", targetId: board.id, detail: { userId } });
}

export async function scheduleBoardSession(db: Db, chairId: string, boardId: string, scheduledAt: Date) {
  const board = await requireBoardMember(db, boardId, chairId);
  requireChair(board, chairId, "schedule sessions");
  if (Number.isNaN(scheduledAt.getTime())) throw new ApiError("BAD_REQUEST", "Give the session's date and time.");
  const [session] = await db.insert(boardSessions).values({ boardId: board.id, scheduledAt }).returning({ id: boardSessions.id });
  await recordAudit(db, {
    actorUserId: chairId,
    action: "board.session.schedule",
    targetType: "board_session",
    targetId: session!.id,
    detail: { boardId: board.id, scheduledAt },
  });
  return { id: session!.id };
}

/**
 * Makes every slide of the session's agenda visible to every member outside the slide's lab,
 * for as long as the session is not closed. Idempotent: only missing grants are created, so it
 * also covers members added and slides published after the case went on the agenda.
 */
export async function syncSessionGrants(db: Db, sessionId: string): Promise<number> {
  const [session] = await db.select().from(boardSessions).where(eq(boardSessions.id, sessionId)).limit(1);
  if (!session || session.status === "closed") return 0;
  const agendaSlides = await db
    .select({ slideId: slides.id, labId: slides.labId })
    .from(boardAgendaItems)
    .innerJoin(slides, eq(slides.caseId, boardAgendaItems.caseId))
    .where(eq(boardAgendaItems.sessionId, sessionId));
  if (agendaSlides.length === 0) return 0;
  const members = await listBoardMembers(db, session.boardId);
  const existing = await db
    .select({ slideId: accessGrants.slideId, userId: accessGrants.granteeUserId })
    .from(accessGrants)
    .where(and(eq(accessGrants.reason, "board"), eq(accessGrants.sourceId, sessionId), isNull(accessGrants.revokedAt)));
  const have = new Set(existing.map((g) => `${g.slideId}|${g.userId}`));
  const missing = agendaSlides.flatMap((s) =>
    members
      .filter((m) => !m.labIds.includes(s.labId) && !have.has(`${s.slideId}|${m.userId}`))
      .map((m) => ({ slideId: s.slideId, granteeUserId: m.userId, reason: "board" as const, sourceId: sessionId })),
  );
  if (missing.length > 0) await db.insert(accessGrants).values(missing);
  return missing.length;
}

/** When a session closes, its grants run out after the grace period. */
export async function expireSessionGrants(db: Db, sessionId: string, endedAt: Date): Promise<void> {
  await db
    .update(accessGrants)
    .set({ expiresAt: new Date(endedAt.getTime() + BOARD_GRANT_GRACE_HOURS * 3600_000) })
    .where(and(eq(accessGrants.reason, "board"), eq(accessGrants.sourceId, sessionId), isNull(accessGrants.revokedAt), isNull(accessGrants.expiresAt)));
}
