import { and, eq } from "drizzle-orm";
import { z } from "zod";
import { type Db, schema } from "@pathx/db";
import { ApiError, notFound } from "../errors";
import type { BoardChannel, BoardView } from "../live/board-channel";
import { expireSessionGrants, listBoardMembers, requireChair, requireSessionMember, syncSessionGrants } from "./boards";
import { recordAudit } from "./audit";

const { boardSessions, boardMembers, boardAgendaItems, slides, users, auditEvents } = schema;

type LiveDeps = { db: Db; channel: BoardChannel };

/** The chair opens the live session and presents first. */
export async function startBoardSession(deps: LiveDeps, chairId: string, sessionId: string) {
  const { db, channel } = deps;
  const { session, board } = await requireSessionMember(db, sessionId, chairId);
  requireChair(board, chairId, "start the session");
  if (session.status === "closed") throw new ApiError("BAD_REQUEST", "This session is closed; schedule a new one.");
  if (session.status === "live") return;
  await db.update(boardSessions).set({ status: "live", presenterUserId: chairId }).where(eq(boardSessions.id, session.id));
  // Slides published to an agenda case since it was added are shared now too.
  await syncSessionGrants(db, session.id);
  await recordAudit(db, { actorUserId: chairId, action: "board.session.start", targetType: "board_session", targetId: session.id });
  const [chair] = await db.select({ name: users.name }).from(users).where(eq(users.id, chairId));
  await channel.publish(session.id, { type: "status", status: "live", presenterUserId: chairId, presenterName: chair!.name });
}

/** The chair closes the session: members of other labs keep the slides for the grace period only. */
export async function endBoardSession(deps: LiveDeps, chairId: string, sessionId: string, now = new Date()) {
  const { db, channel } = deps;
  const { session, board } = await requireSessionMember(db, sessionId, chairId);
  requireChair(board, chairId, "end the session");
  if (session.status === "closed") return;
  await db.update(boardSessions).set({ status: "closed", endedAt: now }).where(eq(boardSessions.id, session.id));
  await expireSessionGrants(db, session.id, now);
  await recordAudit(db, { actorUserId: chairId, action: "board.session.end", targetType: "board_session", targetId: session.id });
  await channel.publish(session.id, { type: "status", status: "closed", presenterUserId: null, presenterName: null });
}

/** The chair hands the presenter role to another member during the live session. */
export async function handOverPresenter(deps: LiveDeps, chairId: string, sessionId: string, userId: string) {
  const { db, channel } = deps;
  const { session, board } = await requireSessionMember(db, sessionId, chairId);
  requireChair(board, chairId, "hand over the presenter role");
  if (session.status !== "live") throw new ApiError("BAD_REQUEST", "Start the session before handing over the presenter role.");
  const member = (await listBoardMembers(db, board.id)).find((m) => m.userId === userId);
  if (!member) throw notFound("Member");
  await db.update(boardSessions).set({ presenterUserId: member.userId }).where(eq(boardSessions.id, session.id));
  await recordAudit(db, {
    actorUserId: chairId,
    action: "board.session.handover",
    targetType: "board_session",
    targetId: session.id,
    detail: { presenterUserId: member.userId },
  });
  await channel.publish(session.id, { type: "presenter", presenterUserId: member.userId, presenterName: member.name });
}

// zod 4 numbers are finite already: NaN and Infinity are refused.
const finite = z.number();
const sentAt = z.number().nonnegative();

/** What the presenter's browser posts: the view (throttled) or the pointer, with its send time. */
export const boardViewInput = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("view"), slideId: z.string().uuid(), centre: z.tuple([finite, finite]), zoom: finite.positive(), rotation: finite, sentAt }),
  z.object({ kind: z.literal("pointer"), slideId: z.string().uuid(), at: z.tuple([finite, finite]).nullable(), sentAt }),
]);
export type BoardViewInput = z.infer<typeof boardViewInput>;

/**
 * Only the presenter moves the shared view. The event goes out before the view is stored, so
 * followers wait for no write; pointer moves are not stored at all.
 */
export async function moveBoardView(deps: LiveDeps, userId: string, sessionIdFromUrl: string, input: BoardViewInput) {
  const { db, channel } = deps;
  if (!/^[0-9a-f-]{36}$/i.test(sessionIdFromUrl)) throw notFound("Session");
  // Channel keys are ids as the database spells them.
  const sessionId = sessionIdFromUrl.toLowerCase();
  // One query on the hot path (~20 posts a second): the session as seen by a member.
  const [row] = await db
    .select({ status: boardSessions.status, presenterUserId: boardSessions.presenterUserId, viewState: boardSessions.viewState })
    .from(boardSessions)
    .innerJoin(boardMembers, and(eq(boardMembers.boardId, boardSessions.boardId), eq(boardMembers.userId, userId)))
    .where(eq(boardSessions.id, sessionId))
    .limit(1);
  if (!row) throw notFound("Session");
  if (row.status !== "live") throw new ApiError("CONFLICT", row.status === "closed" ? "The session has ended." : "The session has not started yet.");
  if (row.presenterUserId !== userId) throw new ApiError("FORBIDDEN", "Only the presenter moves the shared view; the chair can hand you the presenter role.");
  if ((row.viewState as BoardView | null)?.slideId !== input.slideId) {
    const [onAgenda] = await db
      .select({ id: slides.id })
      .from(slides)
      .innerJoin(boardAgendaItems, and(eq(boardAgendaItems.caseId, slides.caseId), eq(boardAgendaItems.sessionId, sessionId)))
      .where(eq(slides.id, input.slideId))
      .limit(1);
    if (!onAgenda) throw new ApiError("BAD_REQUEST", "That slide is not on this session's agenda.");
  }
  if (input.kind === "pointer") {
    await channel.publish(sessionId, { type: "pointer", slideId: input.slideId, at: input.at, sentAt: input.sentAt });
    return;
  }
  const view: BoardView = { slideId: input.slideId, centre: input.centre, zoom: input.zoom, rotation: input.rotation };
  await channel.publish(sessionId, { type: "view", view, sentAt: input.sentAt });
  await db.update(boardSessions).set({ viewState: view }).where(eq(boardSessions.id, sessionId));
}

/** What a member's live connection starts from; a live session records them as attending. */
export async function openLiveSession(db: Db, userId: string, sessionId: string) {
  const { session } = await requireSessionMember(db, sessionId, userId);
  const [presenter] = session.presenterUserId ? await db.select({ name: users.name }).from(users).where(eq(users.id, session.presenterUserId)) : [];
  if (session.status === "live") await recordAttendance(db, userId, session.id);
  return {
    sessionId: session.id,
    status: session.status,
    presenterUserId: session.presenterUserId,
    presenterName: presenter?.name ?? null,
    view: (session.viewState as BoardView | null) ?? null,
  };
}

/** Once per member and session: the minutes list who took part. */
export async function recordAttendance(db: Db, userId: string, sessionId: string, ip?: string | null) {
  const [seen] = await db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(and(eq(auditEvents.action, "board.session.join"), eq(auditEvents.targetId, sessionId), eq(auditEvents.actorUserId, userId)))
    .limit(1);
  // Called from a live stream's event callback too, where the request's origin is not in scope: the caller passes it.
  if (!seen)
    await recordAudit(db, {
      actorUserId: userId,
      action: "board.session.join",
      targetType: "board_session",
      targetId: sessionId,
      ...(ip !== undefined ? { ip } : {}),
    });
}
