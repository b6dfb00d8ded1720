import { and, asc, eq, inArray, max, sql } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import type { ObjectStore } from "@pathx/storage";
import { ApiError, notFound } from "../errors";
import type { BoardChannel, BoardView } from "../live/board-channel";
import { listConclusions } from "./board-conclusions";
import { listBoardMembers, requireSessionMember, syncSessionGrants } from "./boards";
import { recordAudit } from "./audit";
import { notify } from "./notifications";
import type { Membership } from "./users";

const { boardAgendaItems, cases, slides, labs } = schema;

/** Dates in stored text (notifications, minutes) are UTC: readers are in several labs. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/** Everything a member sees of a session: board, members, presenter, agenda with slides and conclusions. */
export async function getBoardSession(db: Db, userId: string, sessionId: string) {
  const { session, board } = await requireSessionMember(db, sessionId, userId);
  const members = await listBoardMembers(db, board.id);
  const items = await db
    .select({ item: boardAgendaItems, accessionNumber: cases.accessionNumber, specimen: cases.specimen, labName: labs.name })
    .from(boardAgendaItems)
    .innerJoin(cases, eq(cases.id, boardAgendaItems.caseId))
    .innerJoin(labs, eq(labs.id, cases.labId))
    .where(eq(boardAgendaItems.sessionId, session.id))
    .orderBy(asc(boardAgendaItems.position), asc(boardAgendaItems.createdAt));
  const caseIds = items.map((i) => i.item.caseId);
  const slideRows = caseIds.length
    ? await db
        .select({
          id: slides.id,
          caseId: slides.caseId,
          block: slides.block,
          stain: slides.stain,
          status: slides.status,
          width: slides.width,
          height: slides.height,
          mppX: slides.mppX,
        })
        .from(slides)
        .where(inArray(slides.caseId, caseIds))
        .orderBy(asc(slides.block), asc(slides.stain))
    : [];
  const presenter = members.find((m) => m.userId === session.presenterUserId);
  const conclusions = await listConclusions(
    db,
    items.map((i) => i.item.id),
  );
  return {
    id: session.id,
    board: { id: board.id, name: board.name, chairUserId: board.chairUserId },
    scheduledAt: session.scheduledAt,
    status: session.status,
    endedAt: session.endedAt,
    presenter: presenter ? { userId: presenter.userId, name: presenter.name } : null,
    viewState: (session.viewState as BoardView | null) ?? null,
    isChair: board.chairUserId === userId,
    members: members.map(({ userId: id, name, email, labNames }) => ({ userId: id, name, email, labNames })),
    agenda: items.map((i) => ({
      id: i.item.id,
      position: i.item.position,
      caseId: i.item.caseId,
      accessionNumber: i.accessionNumber,
      specimen: i.specimen,
      labName: i.labName,
      slides: slideRows.filter((s) => s.caseId === i.item.caseId).map(({ caseId: _, ...s }) => s),
      conclusions: conclusions.get(i.item.id)!,
      snapshots: (i.item.snapshotKeys as string[]).length,
    })),
  };
}

/**
 * A member puts a case of their own lab on the agenda: its slides become visible to the members
 * of other labs for the session, and every other member gets an inbox notification.
 */
export async function addAgendaCase(deps: { db: Db; channel: BoardChannel }, userId: string, lab: Membership, sessionId: string, accessionNumber: string) {
  const { db, channel } = deps;
  const { session, board } = await requireSessionMember(db, sessionId, userId);
  if (session.status === "closed") throw new ApiError("BAD_REQUEST", "This session is closed: put the case on a later session.");
  const accession = accessionNumber.trim();
  const [kase] = await db
    .select()
    .from(cases)
    .where(and(eq(cases.labId, lab.labId), eq(cases.accessionNumber, accession)))
    .limit(1);
  if (!kase) throw new ApiError("NOT_FOUND", `${lab.labName} has no case ${accession || "without an accession number"}: check the accession number.`);
  const [last] = await db
    .select({ position: max(boardAgendaItems.position) })
    .from(boardAgendaItems)
    .where(eq(boardAgendaItems.sessionId, session.id));
  const [item] = await db
    .insert(boardAgendaItems)
    .values({ sessionId: session.id, caseId: kase.id, position: (last?.position ?? 0) + 1 })
    .onConflictDoNothing()
    .returning({ id: boardAgendaItems.id });
  if (!item) throw new ApiError("CONFLICT", `${accession} is already on this session's agenda.`);
  await syncSessionGrants(db, session.id);
  const members = await listBoardMembers(db, board.id);
  await notify(
    db,
    members.map((m) => m.userId).filter((id) => id !== userId),
    { kind: "board.agenda", title: `${board.name}, ${formatUtc(session.scheduledAt)}: ${accession} is on the agenda`, link: `/boards/sessions/${session.id}` },
  );
  await recordAudit(db, {
    labId: kase.labId,
    actorUserId: userId,
    action: "board.agenda.add",
    targetType: "board_session",
    targetId: session.id,
    detail: { caseId: kase.id, accessionNumber: accession },
  });
  await channel.publish(session.id, { type: "agenda" });
  return { itemId: item.id };
}

/** The agenda item with its session, if the user is a member of the board. */
export async function requireAgendaItem(db: Db, userId: string, sessionId: string, itemId: string) {
  const found = await requireSessionMember(db, sessionId, userId);
  const [item] = /^[0-9a-f-]{36}$/i.test(itemId)
    ? await db
        .select()
        .from(boardAgendaItems)
        .where(and(eq(boardAgendaItems.id, itemId), eq(boardAgendaItems.sessionId, found.session.id)))
        .limit(1)
    : [];
  if (!item) throw notFound("Agenda item");
  return { ...found, item };
}

export const MAX_SNAPSHOT_BYTES = 8 * 1024 * 1024;

export function snapshotTooLarge(): ApiError {
  return new ApiError("BAD_REQUEST", "The snapshot is larger than 8 MB; make the window smaller and take it again.");
}

/**
 * The presenter keeps a JPEG of the current view with a case: stored under
 * boards/<session>/<item>/<n>.jpg, its key appended to the item's snapshots.
 */
export async function addSnapshot(
  deps: { db: Db; store: ObjectStore; channel: BoardChannel },
  userId: string,
  sessionId: string,
  itemId: string,
  jpeg: Uint8Array,
) {
  const { db, store, channel } = deps;
  const { session, item } = await requireAgendaItem(db, userId, sessionId, itemId);
  if (session.status !== "live") throw new ApiError("BAD_REQUEST", "Snapshots are taken during the live session.");
  if (session.presenterUserId !== userId) throw new ApiError("FORBIDDEN", "Only the presenter takes snapshots.");
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg[2] !== 0xff) throw new ApiError("BAD_REQUEST", "A snapshot must be a JPEG image.");
  if (jpeg.length > MAX_SNAPSHOT_BYTES) throw snapshotTooLarge();
  // The row lock makes concurrent snapshots take consecutive numbers.
  const [claimed] = await db
    .update(boardAgendaItems)
    .set({
      snapshotKeys: sql`${boardAgendaItems.snapshotKeys} || jsonb_build_array('boards/' || ${session.id}::text || '/' || ${item.id}::text || '/' || (jsonb_array_length(${boardAgendaItems.snapshotKeys}) + 1) || '.jpg')`,
    })
    .where(eq(boardAgendaItems.id, item.id))
    .returning({ keys: boardAgendaItems.snapshotKeys });
  const keys = claimed!.keys as string[];
  const key = keys.at(-1)!;
  try {
    await store.put(key, jpeg, { contentType: "image/jpeg" });
  } catch (error) {
    await db
      .update(boardAgendaItems)
      .set({ snapshotKeys: sql`${boardAgendaItems.snapshotKeys} - ${key}::text` })
      .where(eq(boardAgendaItems.id, item.id));
    throw error;
  }
  await channel.publish(session.id, { type: "agenda" });
  return { number: keys.length };
}

/** Snapshot number n (from 1) of an agenda item, for members only. */
export async function readSnapshot(deps: { db: Db; store: ObjectStore }, userId: string, sessionId: string, itemId: string, n: number): Promise<Buffer> {
  const { item } = await requireAgendaItem(deps.db, userId, sessionId, itemId);
  const key = Number.isInteger(n) && n >= 1 ? (item.snapshotKeys as string[])[n - 1] : undefined;
  if (!key) throw notFound("Snapshot");
  return deps.store.get(key);
}
