import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type BoardEvent, boardViewInput, createInProcessBoardChannel, moveBoardView } from "@pathx/api";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { guardApiRoute } from "./api-guard";
import { answerBoardRequest } from "./board-answer";

// guardApiRoute reads the hub's settings on first use.
vi.stubEnv("AUTH_SECRET", "a-test-secret-of-enough-length");
vi.stubEnv("AUTH_URL", "https://hub.example");

let handle: DbHandle;
const channel = createInProcessBoardChannel();
const ids: Record<"presenter" | "member" | "outsider" | "session" | "pending" | "slide", string> = {
  presenter: "",
  member: "",
  outsider: "",
  session: "",
  pending: "",
  slide: "",
};

beforeAll(async () => {
  handle = await createTestDb();
  const { db } = handle;
  const [lab] = await db.insert(schema.labs).values({ slug: "a", name: "Lab A" }).returning();
  const [presenter, member, outsider] = await db
    .insert(schema.users)
    .values([
      { email: "p@a.example", name: "Presenter" },
      { email: "m@a.example", name: "Member" },
      { email: "o@a.example", name: "Outsider" },
    ])
    .returning();
  const [kase] = await db.insert(schema.cases).values({ labId: lab!.id, accessionNumber: "A-1", patientPseudonym: "hmac:patient" }).returning();
  const [slide] = await db
    .insert(schema.slides)
    .values({
      labId: lab!.id,
      caseId: kase!.id,
      fileName: "s.svs",
      sizeBytes: 1,
      sha256: "s",
      sourceKey: "sources/s",
      status: "ready",
      tilesPrefix: "tiles/s/1",
      width: 1000,
      height: 800,
    })
    .returning();
  const [board] = await db.insert(schema.boards).values({ name: "Sarcoma panel", chairUserId: presenter!.id }).returning();
  await db.insert(schema.boardMembers).values([
    { boardId: board!.id, userId: presenter!.id },
    { boardId: board!.id, userId: member!.id },
  ]);
  const [session, pending] = await db
    .insert(schema.boardSessions)
    .values([
      { boardId: board!.id, scheduledAt: new Date(), status: "live", presenterUserId: presenter!.id },
      { boardId: board!.id, scheduledAt: new Date(Date.now() + 86_400_000), status: "planned", presenterUserId: presenter!.id },
    ])
    .returning();
  await db.insert(schema.boardAgendaItems).values({ sessionId: session!.id, caseId: kase!.id, position: 1 });
  Object.assign(ids, { presenter: presenter!.id, member: member!.id, outsider: outsider!.id, session: session!.id, pending: pending!.id, slide: slide!.id });
});

afterAll(() => handle.close());

/** What the view route does with a posted view, on the real domain. */
const moveView = (sessionId: string, body: unknown) => async (userId: string) => {
  await moveBoardView({ db: handle.db, channel }, userId, sessionId, boardViewInput.parse(body));
  return new Response(null, { status: 204 });
};
const view = () => ({ kind: "view", slideId: ids.slide, centre: [0.25, 0.75], zoom: 4, rotation: 90, sentAt: 1 });
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

describe("answerBoardRequest", () => {
  it("asks a caller who is not signed in to sign in (401), without running the route", async () => {
    let ran = false;
    const response = await answerBoardRequest(undefined, [ids.session], async () => {
      ran = true;
      return new Response(null);
    });
    expect(response.status).toBe(401);
    expect(await errorOf(response)).toContain("Sign in");
    expect(ran).toBe(false);
  });

  it("answers a malformed id as a session that does not exist (404), without running the route", async () => {
    let ran = false;
    for (const bad of [["not-a-uuid"], [ids.session, "1; drop table"], [""]]) {
      const response = await answerBoardRequest(ids.member, bad, async () => {
        ran = true;
        return new Response(null);
      });
      expect(response.status).toBe(404);
      expect(await errorOf(response)).toBe("This board session does not exist.");
    }
    expect(ran).toBe(false);
  });

  it("lets the presenter move the shared view: followers hear it and it is stored", async () => {
    const heard: BoardEvent[] = [];
    const stop = channel.subscribe(ids.session, (event) => heard.push(event));
    try {
      const response = await answerBoardRequest(ids.presenter, [ids.session], moveView(ids.session, view()));
      expect(response.status).toBe(204);
      expect(heard.map((e) => e.type)).toEqual(["view"]);
    } finally {
      stop();
    }
    const [row] = await handle.db.select().from(schema.boardSessions).where(eq(schema.boardSessions.id, ids.session));
    expect(row!.viewState).toEqual({ slideId: ids.slide, centre: [0.25, 0.75], zoom: 4, rotation: 90 });
  });

  it("answers the domain's refusals with their status and message, and changes nothing", async () => {
    const before = (await handle.db.select().from(schema.boardSessions).where(eq(schema.boardSessions.id, ids.session)))[0]!.viewState;
    const moved = { ...view(), centre: [0.9, 0.9] };
    const notPresenter = await answerBoardRequest(ids.member, [ids.session], moveView(ids.session, moved));
    expect(notPresenter.status).toBe(403);
    expect(await errorOf(notPresenter)).toContain("Only the presenter");
    // A non-member is told the session does not exist, as for one that does not.
    const outsider = await answerBoardRequest(ids.outsider, [ids.session], moveView(ids.session, moved));
    expect(outsider.status).toBe(404);
    const notStarted = await answerBoardRequest(ids.presenter, [ids.pending], moveView(ids.pending, moved));
    expect(notStarted.status).toBe(409);
    expect(await errorOf(notStarted)).toContain("not started");
    const after = (await handle.db.select().from(schema.boardSessions).where(eq(schema.boardSessions.id, ids.session)))[0]!.viewState;
    expect(after).toEqual(before);
  });

  it("answers an unexpected failure with a 500 that hides the cause", async () => {
    const quiet = console.error;
    console.error = () => {};
    try {
      const response = await answerBoardRequest(ids.member, [ids.session], async () => {
        throw new Error("socket hang up at 10.0.0.7");
      });
      expect(response.status).toBe(500);
      expect(await errorOf(response)).not.toContain("10.0.0.7");
    } finally {
      console.error = quiet;
    }
  });

  it("is refused before it runs when the post comes from another site (as handleBoardRequest wires it)", async () => {
    let ran = false;
    const request = new Request(`https://hub.example/api/boards/sessions/${ids.session}/view`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify(view()),
    });
    const response = await guardApiRoute(request, () =>
      answerBoardRequest(ids.presenter, [ids.session], async () => {
        ran = true;
        return new Response(null, { status: 204 });
      }),
    );
    expect(response.status).toBe(403);
    expect(ran).toBe(false);
  });
});
