import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import { resolveSlideAccess } from "../access/slide-access";
import { type BoardChannel, type BoardEvent, createInProcessBoardChannel } from "../live/board-channel";
import { appRouter } from "../routers/index";
import { createCallerFactory, createContext } from "../trpc";
import { endBoardSession, moveBoardView, openLiveSession } from "./board-live";
import { boardMinutesMarkdown } from "./board-minutes";
import { addSnapshot, readSnapshot } from "./board-sessions";
import { BOARD_GRANT_GRACE_HOURS } from "./boards";
import { loadSessionUser } from "./users";

let handle: DbHandle;
let store: ObjectStore;
let root: string;
let channel: BoardChannel;
const ids: Record<string, string> = {};
const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 3), Buffer.from([0xff, 0xd9])]);

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "boards-"));
  store = createLocalStore(root);
  channel = createInProcessBoardChannel();
  const db = handle.db;
  const [north, south, east] = await db
    .insert(schema.labs)
    .values([
      { slug: "north", name: "North Lab" },
      { slug: "south", name: "South Lab" },
      { slug: "east", name: "East Lab" },
    ])
    .returning();
  const people = await db
    .insert(schema.users)
    .values([
      { email: "ana@north.example", name: "Ana North" },
      { email: "eve@north.example", name: "Eve North" },
      { email: "bo@south.example", name: "Bo South" },
      { email: "dee@east.example", name: "Dee East" },
      { email: "admin@east.example", name: "East Admin" },
      { email: "nolab@example.org", name: "No Lab" },
    ])
    .returning();
  const [ana, eve, bo, dee, eastAdmin] = people;
  await db.insert(schema.memberships).values([
    { userId: ana!.id, labId: north!.id, role: "pathologist" },
    { userId: eve!.id, labId: north!.id, role: "pathologist" },
    { userId: bo!.id, labId: south!.id, role: "pathologist" },
    { userId: dee!.id, labId: east!.id, role: "pathologist" },
    { userId: eastAdmin!.id, labId: east!.id, role: "lab_admin" },
  ]);
  const [kase, southCase] = await db
    .insert(schema.cases)
    .values([
      { labId: north!.id, accessionNumber: "N26-0042", patientPseudonym: "p1", specimen: "Soft tissue, thigh" },
      { labId: south!.id, accessionNumber: "S26-0007", patientPseudonym: "p2", specimen: "Bone, femur" },
    ])
    .returning();
  const slideRows = await db
    .insert(schema.slides)
    .values([
      {
        labId: north!.id,
        caseId: kase!.id,
        block: "A1",
        stain: "H&E",
        fileName: "a1.svs",
        sizeBytes: 1,
        sha256: "a1",
        status: "ready",
        width: 4000,
        height: 3000,
      },
      {
        labId: north!.id,
        caseId: kase!.id,
        block: "A2",
        stain: "Desmin",
        fileName: "a2.svs",
        sizeBytes: 1,
        sha256: "a2",
        status: "ready",
        width: 4000,
        height: 3000,
      },
      { labId: south!.id, caseId: southCase!.id, block: "1", stain: "H&E", fileName: "s1.svs", sizeBytes: 1, sha256: "s1", status: "ready" },
    ])
    .returning();
  Object.assign(ids, {
    north: north!.id,
    ana: ana!.id,
    eve: eve!.id,
    bo: bo!.id,
    dee: dee!.id,
    eastAdmin: eastAdmin!.id,
    case: kase!.id,
    slideA1: slideRows[0]!.id,
    slideA2: slideRows[1]!.id,
    southSlide: slideRows[2]!.id,
  });
}, 60_000); // a cold in-memory PGlite takes several seconds on a busy machine
afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

const caller = async (userId: string) =>
  createCallerFactory(appRouter)(await createContext({ db: handle.db, store, boardChannel: channel }, { headers: new Headers(), userId }));
const live = () => ({ db: handle.db, channel });
const canSee = async (userId: string, slideId: string) => (await resolveSlideAccess(handle.db, (await loadSessionUser(handle.db, userId))!, slideId))?.via;
const grantsOf = (userId: string, sessionId: string) =>
  handle.db
    .select()
    .from(schema.accessGrants)
    .where(and(eq(schema.accessGrants.granteeUserId, userId), eq(schema.accessGrants.sourceId, sessionId)));
function listen(sessionId: string) {
  const events: BoardEvent[] = [];
  const stop = channel.subscribe(sessionId, (e) => events.push(e));
  return { events, stop };
}

describe("the in-process board channel", () => {
  it("delivers a session's events to its listeners only, until they unsubscribe, past a failing listener", async () => {
    const local = createInProcessBoardChannel();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const a: BoardEvent[] = [];
    const b: BoardEvent[] = [];
    local.subscribe("s1", () => {
      throw new Error("broken connection");
    });
    const stopA = local.subscribe("s1", (e) => a.push(e));
    local.subscribe("s2", (e) => b.push(e));
    await local.publish("s1", { type: "agenda" });
    stopA();
    await local.publish("s1", { type: "agenda" });
    expect(a).toEqual([{ type: "agenda" }]);
    expect(b).toEqual([]);
    expect(logged).toHaveBeenCalledTimes(2);
    logged.mockRestore();
  });
});

describe("tumor boards", () => {
  let boardId: string;
  let sessionId: string;
  let itemId: string;

  it("a pathologist creates a board and chairs it; a lab admin alone cannot", async () => {
    const ana = await caller(ids.ana!);
    await expect(ana.boards.create({ name: "  " })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    boardId = (await ana.boards.create({ name: "Regional sarcoma panel" })).id;
    const board = await ana.boards.get({ id: boardId });
    expect(board).toMatchObject({ name: "Regional sarcoma panel", isChair: true, chairUserId: ids.ana });
    expect(board.members.map((m) => m.name)).toEqual(["Ana North"]);
    await expect((await caller(ids.eastAdmin!)).boards.create({ name: "x" })).rejects.toMatchObject({ code: "FORBIDDEN" });
  });

  it("the chair adds members of any lab by email, with one answer whether or not the address has an account", async () => {
    const ana = await caller(ids.ana!);
    const answers = [];
    for (const email of [" BO@south.example ", "eve@north.example", "bo@south.example", "nobody@example.org", "nolab@example.org"]) {
      const { email: address, message } = await ana.boards.addMember({ boardId, email });
      answers.push(message.replace(address, "ADDRESS"));
    }
    // Nothing tells an account (or its lab, or its name) from a typo.
    expect(new Set(answers).size).toBe(1);
    expect((await ana.boards.get({ id: boardId })).members.map((m) => m.name).sort()).toEqual(["Ana North", "Bo South", "Eve North"]);
    // A member who is not the chair may not.
    await expect((await caller(ids.bo!)).boards.addMember({ boardId, email: "dee@east.example" })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect((await caller(ids.bo!)).boards.list()).resolves.toMatchObject([{ name: "Regional sarcoma panel", isChair: false, members: 3 }]);
  });

  it("the chair schedules a session; other members may not", async () => {
    const ana = await caller(ids.ana!);
    sessionId = (await ana.boards.schedule({ boardId, scheduledAt: new Date("2026-12-01T14:00:00Z") })).id;
    await expect((await caller(ids.eve!)).boards.schedule({ boardId, scheduledAt: new Date() })).rejects.toMatchObject({ code: "FORBIDDEN" });
    expect((await ana.boards.get({ id: boardId })).sessions).toMatchObject([{ id: sessionId, status: "planned", cases: 0 }]);
  });

  it("non-members get NOT_FOUND for everything of the board", async () => {
    const dee = await caller(ids.dee!);
    await expect(dee.boards.get({ id: boardId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(dee.boards.addMember({ boardId, email: "dee@east.example" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(dee.boards.schedule({ boardId, scheduledAt: new Date() })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(dee.boards.sessions.get({ id: sessionId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(dee.boards.sessions.start({ sessionId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(dee.boards.sessions.addCase({ sessionId, accessionNumber: "N26-0042" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(openLiveSession(handle.db, ids.dee!, sessionId)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(boardMinutesMarkdown(handle.db, ids.dee!, sessionId, "http://hub")).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(openLiveSession(handle.db, ids.dee!, "not-a-uuid")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await dee.boards.list()).toEqual([]);
  });

  it("a member puts a case of their own lab on the agenda: members of other labs get grants, own-lab members none, all others a notification", async () => {
    const { events, stop } = listen(sessionId);
    await expect((await caller(ids.bo!)).boards.sessions.addCase({ sessionId, accessionNumber: "N26-0042" })).rejects.toThrow(/South Lab has no case N26-0042/);
    expect(await canSee(ids.bo!, ids.slideA1!)).toBeUndefined();
    itemId = (await (await caller(ids.ana!)).boards.sessions.addCase({ sessionId, accessionNumber: " N26-0042 " })).itemId;
    await expect((await caller(ids.eve!)).boards.sessions.addCase({ sessionId, accessionNumber: "N26-0042" })).rejects.toMatchObject({ code: "CONFLICT" });
    stop();
    expect(events).toEqual([{ type: "agenda" }]);
    const boGrants = await grantsOf(ids.bo!, sessionId);
    expect(boGrants.map((g) => [g.slideId, g.reason, g.expiresAt, g.revokedAt]).sort()).toEqual(
      [
        [ids.slideA1, "board", null, null],
        [ids.slideA2, "board", null, null],
      ].sort(),
    );
    expect(await grantsOf(ids.eve!, sessionId)).toEqual([]);
    expect(await grantsOf(ids.ana!, sessionId)).toEqual([]);
    expect(await canSee(ids.bo!, ids.slideA1!)).toBe("grant");
    expect(await canSee(ids.eve!, ids.slideA1!)).toBe("own-lab");
    expect(await canSee(ids.dee!, ids.slideA1!)).toBeUndefined();
    const inbox = await handle.db.select().from(schema.notifications).where(eq(schema.notifications.kind, "board.agenda"));
    expect(inbox.map((n) => n.userId).sort()).toEqual([ids.bo, ids.eve].sort());
    expect(inbox[0]).toMatchObject({
      title: "Regional sarcoma panel, 2026-12-01 14:00 UTC: N26-0042 is on the agenda",
      link: `/boards/sessions/${sessionId}`,
      readAt: null,
    });
    const session = await (await caller(ids.bo!)).boards.sessions.get({ id: sessionId });
    expect(session.agenda).toMatchObject([
      { accessionNumber: "N26-0042", specimen: "Soft tissue, thigh", labName: "North Lab", conclusions: { history: [], agreed: null }, snapshots: 0 },
    ]);
    expect(session.agenda[0]!.slides.map((s) => `${s.block} ${s.stain}`)).toEqual(["A1 H&E", "A2 Desmin"]);
  });

  it("a member added later gets the grants of the open session", async () => {
    await (await caller(ids.ana!)).boards.addMember({ boardId, email: "dee@east.example" });
    expect(await canSee(ids.dee!, ids.slideA2!)).toBe("grant");
  });

  it("only the chair starts; only the presenter moves the view; the chair hands over", async () => {
    await expect((await caller(ids.bo!)).boards.sessions.start({ sessionId })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const view = { kind: "view" as const, slideId: ids.slideA1!, centre: [2000, 1500] as [number, number], zoom: 2, rotation: 90, sentAt: 1 };
    await expect(moveBoardView(live(), ids.ana!, sessionId, view)).rejects.toThrow(/not started yet/);
    const { events, stop } = listen(sessionId);
    await (await caller(ids.ana!)).boards.sessions.start({ sessionId });
    expect(await openLiveSession(handle.db, ids.bo!, sessionId)).toMatchObject({
      status: "live",
      presenterUserId: ids.ana,
      presenterName: "Ana North",
      view: null,
    });
    await expect(moveBoardView(live(), ids.bo!, sessionId, view)).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(moveBoardView(live(), ids.eastAdmin!, sessionId, view)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(moveBoardView(live(), ids.ana!, sessionId, { ...view, slideId: ids.southSlide! })).rejects.toThrow(/not on this session's agenda/);
    await moveBoardView(live(), ids.ana!, sessionId, view);
    await moveBoardView(live(), ids.ana!, sessionId, { kind: "pointer", slideId: ids.slideA1!, at: [10, 20], sentAt: 2 });
    const [row] = await handle.db.select().from(schema.boardSessions).where(eq(schema.boardSessions.id, sessionId));
    expect(row!.viewState).toEqual({ slideId: ids.slideA1, centre: [2000, 1500], zoom: 2, rotation: 90 });

    await expect((await caller(ids.bo!)).boards.sessions.handOver({ sessionId, userId: ids.bo! })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect((await caller(ids.ana!)).boards.sessions.handOver({ sessionId, userId: ids.eastAdmin! })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await (await caller(ids.ana!)).boards.sessions.handOver({ sessionId, userId: ids.bo! });
    await expect(moveBoardView(live(), ids.ana!, sessionId, view)).rejects.toMatchObject({ code: "FORBIDDEN" });
    await moveBoardView(live(), ids.bo!, sessionId, { ...view, slideId: ids.slideA2!, zoom: 4, sentAt: 3 });
    stop();
    expect(events).toEqual([
      { type: "status", status: "live", presenterUserId: ids.ana, presenterName: "Ana North" },
      { type: "view", view: { slideId: ids.slideA1, centre: [2000, 1500], zoom: 2, rotation: 90 }, sentAt: 1 },
      { type: "pointer", slideId: ids.slideA1, at: [10, 20], sentAt: 2 },
      { type: "presenter", presenterUserId: ids.bo, presenterName: "Bo South" },
      { type: "view", view: { slideId: ids.slideA2, centre: [2000, 1500], zoom: 4, rotation: 90 }, sentAt: 3 },
    ]);
  });

  it("every member's contribution is kept with its author and time, the chair marks the agreed one; the presenter adds snapshots", async () => {
    const eve = await caller(ids.eve!);
    const dee = await caller(ids.dee!);
    await expect(eve.boards.sessions.conclude({ sessionId, itemId, conclusion: " " })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    const { id: eves } = await eve.boards.sessions.conclude({ sessionId, itemId, conclusion: "Leiomyosarcoma, FNCLCC grade 2.\nRe-excision *recommended*." });
    // A later contribution does not overwrite an earlier one.
    const { id: dees } = await dee.boards.sessions.conclude({ sessionId, itemId, conclusion: "Favour leiomyosarcoma; grade 3 cannot be excluded." });
    await expect(dee.boards.sessions.conclude({ sessionId, itemId: ids.case!, conclusion: "x" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(eve.boards.sessions.agree({ sessionId, itemId, contributionId: eves })).rejects.toMatchObject({ code: "FORBIDDEN" });
    const ana = await caller(ids.ana!);
    await ana.boards.sessions.agree({ sessionId, itemId, contributionId: dees });
    await ana.boards.sessions.agree({ sessionId, itemId, contributionId: eves });
    await expect(ana.boards.sessions.addendum({ sessionId, itemId, text: "Too early." })).rejects.toThrow(/Addenda are for closed sessions/);
    const { conclusions } = (await dee.boards.sessions.get({ id: sessionId })).agenda[0]!;
    expect(conclusions.history.map((h) => [h.kind, h.author])).toEqual([
      ["contribution", "Eve North"],
      ["contribution", "Dee East"],
      ["agreed", "Ana North"],
      ["agreed", "Ana North"],
    ]);
    expect(conclusions.agreed).toMatchObject({
      text: "Leiomyosarcoma, FNCLCC grade 2.\nRe-excision *recommended*.",
      author: "Ana North",
      proposedBy: "Eve North",
      basedOn: eves,
    });
    expect(conclusions.history.every((h) => h.at instanceof Date)).toBe(true);
    const deps = { db: handle.db, store, channel };
    await expect(addSnapshot(deps, ids.ana!, sessionId, itemId, jpeg)).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(addSnapshot(deps, ids.eastAdmin!, sessionId, itemId, jpeg)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(addSnapshot(deps, ids.bo!, sessionId, itemId, Buffer.from("GIF89a-not-a-jpeg"))).rejects.toThrow(/must be a JPEG/);
    expect(await addSnapshot(deps, ids.bo!, sessionId, itemId, jpeg)).toEqual({ number: 1 });
    expect(await addSnapshot(deps, ids.bo!, sessionId, itemId, jpeg)).toEqual({ number: 2 });
    const [item] = await handle.db.select().from(schema.boardAgendaItems).where(eq(schema.boardAgendaItems.id, itemId));
    expect(item).toMatchObject({ snapshotKeys: [`boards/${sessionId}/${itemId}/1.jpg`, `boards/${sessionId}/${itemId}/2.jpg`] });
    expect(await readSnapshot(deps, ids.eve!, sessionId, itemId, 2)).toEqual(jpeg);
    await expect(readSnapshot(deps, ids.eve!, sessionId, itemId, 3)).rejects.toMatchObject({ code: "NOT_FOUND" });
    await expect(readSnapshot(deps, ids.eastAdmin!, sessionId, itemId, 1)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await eve.boards.sessions.get({ id: sessionId })).agenda[0]).toMatchObject({ snapshots: 2 });
  });

  it("a removed member loses the session's slides and their live connections are told", async () => {
    const { events, stop } = listen(sessionId);
    await expect((await caller(ids.ana!)).boards.removeMember({ boardId, userId: ids.ana! })).rejects.toThrow(/chair cannot be removed/);
    await (await caller(ids.ana!)).boards.removeMember({ boardId, userId: ids.bo! });
    stop();
    expect(await canSee(ids.bo!, ids.slideA1!)).toBeUndefined();
    expect((await grantsOf(ids.bo!, sessionId)).every((g) => g.revokedAt !== null)).toBe(true);
    // Bo was presenting: the role goes back to the chair.
    expect(events).toEqual([
      { type: "presenter", presenterUserId: ids.ana, presenterName: "Ana North" },
      { type: "member-removed", userId: ids.bo },
    ]);
    await expect((await caller(ids.bo!)).boards.sessions.get({ id: sessionId })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await canSee(ids.dee!, ids.slideA1!)).toBe("grant");
  });

  it("the minutes list board, date, members, attendance, cases, slides, conclusions with authors and snapshots", async () => {
    const { markdown, fileName } = await boardMinutesMarkdown(handle.db, ids.dee!, sessionId, "https://hub.example");
    expect(fileName).toBe("regional-sarcoma-panel-2026-12-01-minutes.md");
    expect(markdown).toContain("# Regional sarcoma panel: minutes");
    expect(markdown).toContain("**Session:** 2026-12-01 14:00 UTC (in progress: these minutes are a draft)");
    expect(markdown).toContain("**Members:** Ana North (North Lab); Dee East (East Lab); Eve North (North Lab)");
    expect(markdown).toContain("**Attended the live session:** Bo South");
    expect(markdown).toContain("## 1. N26-0042 — Soft tissue, thigh");
    expect(markdown).toContain("**Slides:** A1 · H&E; A2 · Desmin");
    expect(markdown).toMatch(
      /\*\*Agreed conclusion\*\* \(proposed by Eve North, marked agreed by Ana North, [\d-]+ [\d:]+ UTC\):\n\n> Leiomyosarcoma, FNCLCC grade 2\.\n> Re-excision \\\*recommended\\\*\./,
    );
    expect(markdown).toMatch(/- Dee East, [\d-]+ [\d:]+ UTC:\n {2}> Favour leiomyosarcoma; grade 3 cannot be excluded\./);
    expect(markdown).toContain(`![Snapshot 2 of N26-0042](https://hub.example/api/boards/sessions/${sessionId}/snapshots/${itemId}/2)`);
  });

  it("closing the session lets the grants run out after the grace period", async () => {
    await expect(endBoardSession(live(), ids.eve!, sessionId)).rejects.toMatchObject({ code: "FORBIDDEN" });
    const endedAt = new Date(Date.now() - (BOARD_GRANT_GRACE_HOURS + 1) * 3600_000);
    await endBoardSession(live(), ids.ana!, sessionId, endedAt);
    const grants = await grantsOf(ids.dee!, sessionId);
    expect(grants.map((g) => g.expiresAt?.getTime())).toEqual([
      endedAt.getTime() + BOARD_GRANT_GRACE_HOURS * 3600_000,
      endedAt.getTime() + BOARD_GRANT_GRACE_HOURS * 3600_000,
    ]);
    expect(await canSee(ids.dee!, ids.slideA1!)).toBeUndefined();
    await expect((await caller(ids.ana!)).boards.sessions.addCase({ sessionId, accessionNumber: "N26-0042" })).rejects.toThrow(/session is closed/);
    await expect(moveBoardView(live(), ids.ana!, sessionId, { kind: "pointer", slideId: ids.slideA1!, at: null, sentAt: 1 })).rejects.toThrow(/has ended/);
    // The closed record is read-only: a correction is a signed addendum.
    const dee = await caller(ids.dee!);
    await expect(dee.boards.sessions.conclude({ sessionId, itemId, conclusion: "Changed my mind." })).rejects.toThrow(/closed.*signed addendum/);
    const agreed = (await dee.boards.sessions.get({ id: sessionId })).agenda[0]!.conclusions.agreed!;
    await expect((await caller(ids.ana!)).boards.sessions.agree({ sessionId, itemId, contributionId: agreed.basedOn! })).rejects.toThrow(/closed/);
    await dee.boards.sessions.addendum({ sessionId, itemId, text: "Desmin and h-caldesmon positive on review." });
    const minutes = (await boardMinutesMarkdown(handle.db, ids.ana!, sessionId, "")).markdown;
    expect(minutes).toMatch(/\*\*Addendum\*\* signed by Dee East, [\d-]+ [\d:]+ UTC:\n\n> Desmin and h-caldesmon positive on review\./);
    expect(minutes).toContain("marked agreed by Ana North");
    expect((await boardMinutesMarkdown(handle.db, ids.ana!, sessionId, "")).markdown).toContain(
      `(closed ${endedAt.toISOString().slice(0, 16).replace("T", " ")} UTC)`,
    );
  });

  it("a session closed just now keeps the grants for the grace period", async () => {
    const ana = await caller(ids.ana!);
    const second = (await ana.boards.schedule({ boardId, scheduledAt: new Date("2026-12-08T14:00:00Z") })).id;
    await ana.boards.sessions.addCase({ sessionId: second, accessionNumber: "N26-0042" });
    await ana.boards.sessions.start({ sessionId: second });
    await ana.boards.sessions.end({ sessionId: second });
    const [grant] = await grantsOf(ids.dee!, second);
    expect(grant!.expiresAt!.getTime()).toBeGreaterThan(Date.now() + (BOARD_GRANT_GRACE_HOURS - 1) * 3600_000);
    expect(await canSee(ids.dee!, ids.slideA1!)).toBe("grant");
  });

  it("every board action above is in an audit chain: the case's lab's for agenda and conclusions, the hub's for the board's own", async () => {
    const rows = await handle.db
      .select({ action: schema.auditEvents.action, lab: schema.labs.slug, who: schema.users.name })
      .from(schema.auditEvents)
      .leftJoin(schema.labs, eq(schema.labs.id, schema.auditEvents.labId))
      .innerJoin(schema.users, eq(schema.users.id, schema.auditEvents.actorUserId))
      .orderBy(schema.auditEvents.createdAt, schema.auditEvents.seq);
    const seen = rows.map((r) => `${r.action} ${r.lab ?? "hub"} ${r.who}`);
    for (const expected of [
      "board.create hub Ana North",
      "board.member.add hub Ana North",
      "board.session.schedule hub Ana North",
      "board.agenda.add north Ana North",
      "board.session.start hub Ana North",
      "board.session.join hub Bo South",
      "board.session.handover hub Ana North",
      "board.conclude north Eve North",
      "board.member.remove hub Ana North",
      "board.minutes.export north Ana North",
      "board.session.end hub Ana North",
    ]) {
      expect(seen).toContain(expected);
    }
  });
});
