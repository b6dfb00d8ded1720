import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import { type AuditSigningKey, loadAuditSigningKey } from "../audit/signing-key";
import { ApiError } from "../errors";
import { exportAnnotationsGeoJson } from "../domain/annotations";
import { moveBoardView, openLiveSession } from "../domain/board-live";
import { boardMinutesMarkdown } from "../domain/board-minutes";
import { addSnapshot, readSnapshot } from "../domain/board-sessions";
import { createInProcessBoardChannel } from "../live/board-channel";
import { loadSessionUser } from "../domain/users";
import { appRouter } from "../routers/index";
import { createCallerFactory, createContext } from "../trpc";
import { type AccessRule, type BoardParty, accessRules } from "./rules";
import { tileAccessFor } from "./slide-access";
import { issueTileToken } from "../domain/tile-tokens";
import { REVOCATIONS_TOPIC, parseRevocation } from "../events/revocations";
import { createRevocationList, signTileToken, verifyTileToken } from "@pathx/tile-token";
import { withdrawConsult } from "../domain/consults";

// Every procedure and route of the rules table, called by every kind of user, each call in a
// transaction that is rolled back so no call changes what the next one sees.
type Actor = "anonymous" | "pathologist A" | "admin A" | "pathologist B" | "admin B" | "granted B" | "grant expired B" | "grant revoked B";
const actors: Actor[] = ["anonymous", "pathologist A", "admin A", "pathologist B", "admin B", "granted B", "grant expired B", "grant revoked B"];
type Answer = "allowed" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND";

let handle: DbHandle;
const boardChannel = createInProcessBoardChannel();
const tileTokens = { secret: "access-test-tile-secret-access-test", publicUrl: "http://tiles.test", lifetimeSeconds: 300 };
let store: ObjectStore;
let root: string;
const ids: Record<string, string> = {};
const userIds: Partial<Record<Actor, string>> = {};
let signingKey: Promise<AuditSigningKey> | undefined;
const auditKey = () => (signingKey ??= loadAuditSigningKey({ AUDIT_KEY_FILE: join(root, "audit-key.pem") }));
/** Each signed-in actor's own pending invitation (to the other lab): answering it is theirs alone. */
const invitationIds: Partial<Record<Actor, string>> = {};

/** The consult party each actor is to the fixture request C1 (accepted by "granted B"). */
const consultParty: Partial<Record<Actor, "requester" | "consultant">> = { "pathologist A": "requester", "admin A": "requester", "granted B": "consultant" };
/** Which parties may call each consult procedure (the domain's finer rule inside the "consult" resource). */
const consultParties: Record<string, ("requester" | "consultant")[]> = {
  "consults.get": ["requester", "consultant"],
  "consults.fhir": ["requester", "consultant"],
  "route:/consults/[id]/fhir.json": ["requester", "consultant"],
  "consults.send": ["requester"],
  "consults.withdraw": ["requester"],
  "consults.close": ["requester"],
  "consults.accept": [], // only while unanswered, by those it is addressed to: C1 is taken
  "consults.decline": ["consultant"],
  "consults.report": ["consultant"],
};

/** The fixture board is chaired by pathologist A (presenting, case on the agenda from lab A); granted B is a member. */
const boardParties: Partial<Record<Actor, BoardParty[]>> = { "pathologist A": ["member", "chair", "presenter", "case-lab"], "granted B": ["member"] };

function expectedAnswer(name: string, rule: AccessRule, actor: Actor): Answer {
  if (actor === "anonymous") return "UNAUTHORIZED";
  const isAdmin = actor.startsWith("admin");
  if (rule.audience === "lab-admin" && !isAdmin) return "FORBIDDEN";
  if (rule.audience === "pathologist" && isAdmin) return "FORBIDDEN";
  const labA = actor.endsWith(" A");
  switch (rule.resource) {
    case "own":
      return "allowed";
    case "own-lab":
      return labA ? "allowed" : "NOT_FOUND";
    case "slide":
      return labA || actor === "granted B" ? "allowed" : "NOT_FOUND";
    case "consult": {
      const party = consultParty[actor];
      return party && consultParties[name]!.includes(party) ? "allowed" : "NOT_FOUND";
    }
    case "authored":
      // The fixture annotation is pathologist A's, kept in lab A: lab A sees it, nobody else.
      return actor === "pathologist A" ? "allowed" : labA ? "FORBIDDEN" : "NOT_FOUND";
    case "board": {
      const parties = boardParties[actor];
      if (!parties) return "NOT_FOUND";
      // A member of another lab adding a case: the case does not exist for them.
      if (rule.parties!.includes("case-lab") && !parties.includes("case-lab")) return "NOT_FOUND";
      return rule.parties!.some((p) => parties.includes(p)) ? "allowed" : "FORBIDDEN";
    }
  }
}

/** The input each procedure is called with: always aimed at lab A's resources. */
function inputFor(name: string, actor: Actor): unknown {
  const meta = { accessionNumber: "X-1", block: "A1", stain: "H&E", specimen: "" };
  const inputs: Record<string, unknown> = {
    me: undefined,
    "slides.list": {},
    "slides.get": { id: ids.slide },
    "slides.tileToken": { id: ids.slide },
    "slides.requestFetch": { id: ids.slide },
    "members.list": undefined,
    "members.add": { labId: ids.labA, email: "new-person@example.org", name: "New", role: "pathologist", password: "a-first-password" },
    "members.setRole": { userId: userIds["pathologist A"], role: "pathologist" },
    "members.setSubspecialties": { userId: userIds["pathologist A"], subspecialties: ["soft tissue"] },
    "members.remove": { userId: userIds["pathologist A"] },
    "members.signOutEverywhere": { userId: userIds["pathologist A"] },
    "sessions.signOutEverywhere": undefined,
    "lab.policy": undefined,
    "lab.setShareLabelMacro": { share: false },
    "nodes.list": undefined,
    "nodes.createEnrollmentToken": undefined,
    "nodes.revoke": { nodeId: ids.node },
    "uploads.start": { fileName: "x.svs", size: 1000, sha256: "a".repeat(64), meta },
    "uploads.complete": { uploadId: ids.upload },
    "cases.get": { id: ids.case },
    "cases.setStatus": { id: ids.case, status: "open" },
    "cases.priors": { id: ids.case },
    "cases.openPrior": { caseId: ids.case, slideId: ids.slide, reason: "current diagnosis" },
    "consults.list": undefined,
    "consults.get": { id: ids.consult },
    "consults.forCase": { caseId: ids.case },
    "consults.targets": undefined,
    "consults.create": {
      caseId: ids.case,
      slideIds: [ids.slide],
      question: "Which diagnosis fits best?",
      urgency: "routine",
      targetLabId: ids.labB,
      targetSubspecialty: "skin",
      shareLabel: false,
    },
    "consults.send": { id: ids.consult },
    "consults.withdraw": { id: ids.consult },
    "consults.accept": { id: ids.consult },
    "consults.decline": { id: ids.consult, reason: "Outside my field" },
    "consults.report": { id: ids.consult, report: { diagnosis: "Benign naevus", comment: "", codes: [] } },
    "consults.close": { id: ids.consult },
    "consults.fhir": { id: ids.consult },
    "invitations.list": undefined,
    "invitations.accept": { id: invitationIds[actor] },
    "invitations.decline": { id: invitationIds[actor] },
    "inbox.list": undefined,
    "inbox.unread": undefined,
    "inbox.markRead": {},
    "audit.remoteViews": undefined,
    "audit.chain": undefined,
    "audit.priorLookups": undefined,
    "annotations.list": { slideId: ids.slide },
    "annotations.create": { slideId: ids.slide, kind: "point", geometry: { type: "Point", coordinates: [10, 10] }, label: "" },
    "annotations.remove": { id: ids.annotation },
    "boards.list": undefined,
    "boards.create": { name: "Sarcoma panel 2" },
    "boards.get": { id: ids.board },
    "boards.addMember": { boardId: ids.board, email: "pathologist-B@example.org" },
    "boards.removeMember": { boardId: ids.board, userId: userIds["granted B"] },
    "boards.schedule": { boardId: ids.board, scheduledAt: new Date(Date.now() + 86_400_000) },
    "boards.sessions.get": { id: ids.session },
    "boards.sessions.addCase": { sessionId: ids.session, accessionNumber: "A-1" },
    "boards.sessions.start": { sessionId: ids.session },
    "boards.sessions.end": { sessionId: ids.session },
    "boards.sessions.handOver": { sessionId: ids.session, userId: userIds["granted B"] },
    "boards.sessions.conclude": { sessionId: ids.session, itemId: ids.item, conclusion: "Wide excision." },
    "boards.sessions.agree": { sessionId: ids.session, itemId: ids.item, contributionId: ids.contribution },
    "boards.sessions.addendum": { sessionId: ids.closedSession, itemId: ids.closedItem, text: "Margins re-reviewed: clear." },
  };
  if (!(name in inputs)) throw new Error(`${name}: no input in the access test; add one`);
  return inputs[name];
}

/**
 * Audited calls refused by state on these fixtures (consult C1 is accepted, the session live with
 * A-1 on its agenda, B's member there already) or, for cross-lab, allowed only to lab A here:
 * consults.test.ts and boards.test.ts walk their audit entries.
 */
const auditCheckedElsewhere = new Set([
  "cases.openPrior",
  "consults.send",
  "consults.accept",
  "consults.close",
  "boards.addMember",
  "boards.sessions.addCase",
  "boards.sessions.start",
]);

/** Calls that change nothing on the fixtures (the session is live already), so they record nothing. */
const noOpOnFixture = new Set(["boards.sessions.start", "boards.addMember"]);

class Rollback extends Error {}

/** Runs one call in a transaction that is always rolled back, and classifies the answer. */
/** Audit entries in every chain, and in lab A's (the owner of every fixture resource). */
async function auditCounts(db: Db) {
  const [row] = await db.select({ all: count(), labA: count(sql`case when ${schema.auditEvents.labId} = ${ids.labA} then 1 end`) }).from(schema.auditEvents);
  return row!;
}

interface Outcome {
  answer: Answer;
  result?: unknown;
  /** For a call that returned: whether it wrote an audit entry, and one in lab A's chain. */
  audited?: { any: boolean; labA: boolean };
}

async function answerOf(call: (db: Db) => Promise<unknown>): Promise<Outcome> {
  let outcome: Outcome | undefined;
  await handle.db
    .transaction(async (tx) => {
      try {
        const before = await auditCounts(tx as unknown as Db);
        const result = await call(tx as unknown as Db);
        const after = await auditCounts(tx as unknown as Db);
        outcome = { answer: "allowed", result, audited: { any: after.all > before.all, labA: after.labA > before.labA } };
      } catch (error) {
        const code = error instanceof TRPCError ? error.code : error instanceof ApiError ? error.code : undefined;
        // Refusals by state or input (CONFLICT, BAD_REQUEST…) come after the access check passed.
        outcome = { answer: code === "UNAUTHORIZED" || code === "FORBIDDEN" || code === "NOT_FOUND" ? code : "allowed" };
        if (!code) throw error;
      }
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
  return outcome!;
}

async function callAs(actor: Actor, name: string): Promise<Outcome> {
  const userId = userIds[actor];
  if (name.startsWith("tiles:")) {
    // What the tile service does with a token the hub issued to this user: verify it (no database).
    return answerOf(async (db) => {
      const user = userId ? await loadSessionUser(db, userId) : undefined;
      if (!user) throw new ApiError("UNAUTHORIZED", "Sign in.");
      const grant = await issueTileToken(db, tileTokens, user, undefined, ids.slide!);
      const check = verifyTileToken(tileTokens.secret, grant.token, { slideId: ids.slide!, version: "1" });
      if (!check.ok) throw new ApiError("NOT_FOUND", "Not found.");
      return grant.dziUrl;
    });
  }
  if (name.startsWith("route:")) {
    return answerOf(async (db) => {
      const user = userId ? await loadSessionUser(db, userId) : undefined;
      if (!user) throw new ApiError("UNAUTHORIZED", "Sign in.");
      if (name === "route:/slides/[id]/thumbnail") {
        const access = await tileAccessFor(db, user, ids.slide!);
        if (!access) throw new ApiError("NOT_FOUND", "Not found.");
        return access;
      }
      const caller = createCallerFactory(appRouter)(
        await createContext({ db, store, enqueueTiling: async () => {}, boardChannel, tileTokens, auditKey }, { headers: new Headers(), userId }),
      );
      if (name === "route:/consults/[id]/fhir.json") return caller.consults.fhir({ id: ids.consult! });
      if (name === "route:/inbox/[id]") return caller.inbox.list();
      if (name === "route:/slides/[id]/annotations.geojson") return exportAnnotationsGeoJson(db, user, ids.slide!);
      const live = { db, store, channel: boardChannel };
      if (name === "route:/api/boards/sessions/[id]/live") return openLiveSession(db, user.id, ids.session!);
      if (name === "route:/api/boards/sessions/[id]/view")
        return moveBoardView(live, user.id, ids.session!, { kind: "view", slideId: ids.slide!, centre: [0.5, 0.4], zoom: 2, rotation: 0, sentAt: Date.now() });
      if (name === "route:/api/boards/sessions/[id]/minutes.md") return boardMinutesMarkdown(db, user.id, ids.session!, "http://hub.test");
      if (name === "route:/api/boards/sessions/[id]/snapshots/[itemId]")
        return addSnapshot(live, user.id, ids.session!, ids.item!, Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]));
      if (name === "route:/api/boards/sessions/[id]/snapshots/[itemId]/[n]") return readSnapshot(live, user.id, ids.session!, ids.item!, 1);
      throw new Error(`${name}: no call in the access test; add one`);
    });
  }
  return answerOf(async (db) => {
    const caller = createCallerFactory(appRouter)(
      await createContext({ db, store, enqueueTiling: async () => {}, boardChannel, tileTokens, auditKey }, { headers: new Headers(), userId }),
    );
    const procedure = name.split(".").reduce<unknown>((at, part) => (at as Record<string, unknown>)[part], caller) as (input: unknown) => Promise<unknown>;
    return procedure(inputFor(name, actor));
  });
}

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "access-"));
  store = createLocalStore(root);
  const db = handle.db;
  const [labA, labB] = await db
    .insert(schema.labs)
    .values([
      { slug: "a", name: "Lab A" },
      { slug: "b", name: "Lab B" },
    ])
    .returning();
  const people: [Actor, string, "pathologist" | "lab_admin"][] = [
    ["pathologist A", labA!.id, "pathologist"],
    ["admin A", labA!.id, "lab_admin"],
    ["pathologist B", labB!.id, "pathologist"],
    ["admin B", labB!.id, "lab_admin"],
    ["granted B", labB!.id, "pathologist"],
    ["grant expired B", labB!.id, "pathologist"],
    ["grant revoked B", labB!.id, "pathologist"],
  ];
  for (const [actor, labId, role] of people) {
    const [u] = await db
      .insert(schema.users)
      .values({ email: `${actor.replaceAll(" ", "-")}@example.org`, name: actor })
      .returning();
    await db.insert(schema.memberships).values({ userId: u!.id, labId, role, subspecialties: ["skin"] });
    userIds[actor] = u!.id;
    const [invitation] = await db
      .insert(schema.labInvitations)
      .values({ labId: labId === labA!.id ? labB!.id : labA!.id, userId: u!.id, role: "pathologist" })
      .returning();
    invitationIds[actor] = invitation!.id;
  }
  const [kase] = await db.insert(schema.cases).values({ labId: labA!.id, accessionNumber: "A-1", patientPseudonym: "hmac:patient" }).returning();
  const [slide] = await db
    .insert(schema.slides)
    .values({
      labId: labA!.id,
      caseId: kase!.id,
      fileName: "s.svs",
      sizeBytes: 1,
      sha256: "s",
      sourceKey: "sources/s",
      status: "ready",
      tilesPrefix: "tiles/s/1",
      thumbnailKey: "tiles/s/1/t.jpeg",
      width: 1000,
      height: 800,
      mppX: 0.5,
      mppY: 0.5,
    })
    .returning();
  const [node] = await db.insert(schema.nodes).values({ labId: labA!.id, name: "a-node", credentialHash: "h" }).returning();
  const [upload] = await db
    .insert(schema.uploads)
    .values({ labId: labA!.id, fileName: "u.svs", sizeBytes: 100, sha256: "b".repeat(64), chunkSize: 8, receivedChunks: "0".repeat(13), meta: {} })
    .returning();
  const consult = (consultant: Actor, status: "accepted" | "closed") => ({
    requesterLabId: labA!.id,
    requesterUserId: userIds["pathologist A"]!,
    caseId: kase!.id,
    question: "Which diagnosis fits best?",
    targetLabId: labB!.id,
    targetSubspecialty: "skin",
    consultantUserId: userIds[consultant]!,
    status,
    sentAt: new Date(),
  });
  const [c1, c2] = await db
    .insert(schema.consultRequests)
    .values([consult("granted B", "accepted"), consult("grant expired B", "closed")])
    .returning();
  await db.insert(schema.consultSlides).values([
    { requestId: c1!.id, slideId: slide!.id },
    { requestId: c2!.id, slideId: slide!.id },
  ]);
  await db.insert(schema.accessGrants).values([
    { slideId: slide!.id, granteeUserId: userIds["granted B"]!, reason: "consult", sourceId: c1!.id },
    { slideId: slide!.id, granteeUserId: userIds["grant expired B"]!, reason: "consult", sourceId: c2!.id, expiresAt: new Date(Date.now() - 60_000) },
    { slideId: slide!.id, granteeUserId: userIds["grant revoked B"]!, reason: "board", sourceId: c1!.id, revokedAt: new Date() },
  ]);
  const [note] = await db
    .insert(schema.annotations)
    .values({
      slideId: slide!.id,
      authorUserId: userIds["pathologist A"]!,
      authorLabId: labA!.id,
      kind: "point",
      feature: { type: "Feature", geometry: { type: "Point", coordinates: [5, 5] }, properties: {} },
    })
    .returning();
  const [board] = await db.insert(schema.boards).values({ name: "Sarcoma panel", chairUserId: userIds["pathologist A"]! }).returning();
  await db.insert(schema.boardMembers).values([
    { boardId: board!.id, userId: userIds["pathologist A"]! },
    { boardId: board!.id, userId: userIds["granted B"]! },
  ]);
  const [session] = await db
    .insert(schema.boardSessions)
    .values({
      boardId: board!.id,
      scheduledAt: new Date(),
      status: "live",
      presenterUserId: userIds["pathologist A"]!,
      viewState: { slideId: slide!.id, centre: [0.5, 0.5], zoom: 1, rotation: 0 },
    })
    .returning();
  const [item] = await db
    .insert(schema.boardAgendaItems)
    .values({ sessionId: session!.id, caseId: kase!.id, position: 1, snapshotKeys: ["boards/fixture/1.jpg"] })
    .returning();
  await store.put("boards/fixture/1.jpg", Buffer.from([0xff, 0xd8, 0xff, 0xd9]));
  const [contribution] = await db
    .insert(schema.boardConclusions)
    .values({ itemId: item!.id, kind: "contribution", authorUserId: userIds["granted B"]!, text: "Wide excision." })
    .returning();
  // An earlier, closed session of the same board: its record takes addenda only.
  const [closedSession] = await db
    .insert(schema.boardSessions)
    .values({ boardId: board!.id, scheduledAt: new Date(Date.now() - 86_400_000), status: "closed", endedAt: new Date() })
    .returning();
  const [closedItem] = await db.insert(schema.boardAgendaItems).values({ sessionId: closedSession!.id, caseId: kase!.id, position: 1 }).returning();
  Object.assign(ids, {
    board: board!.id,
    session: session!.id,
    item: item!.id,
    contribution: contribution!.id,
    closedSession: closedSession!.id,
    closedItem: closedItem!.id,
  });
  Object.assign(ids, {
    annotation: note!.id,
    labA: labA!.id,
    labB: labB!.id,
    case: kase!.id,
    slide: slide!.id,
    node: node!.id,
    upload: upload!.id,
    consult: c1!.id,
  });
});

afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

describe("access rules", () => {
  it("cover every tRPC procedure", () => {
    const procedures = Object.keys((appRouter as unknown as { _def: { procedures: Record<string, unknown> } })._def.procedures).sort();
    const ruled = Object.keys(accessRules)
      .filter((k) => !k.startsWith("route:") && !k.startsWith("tiles:"))
      .sort();
    expect(procedures).toEqual(ruled);
  });

  for (const [name, rule] of Object.entries(accessRules)) {
    it(`${name}: ${rule.audience}, ${rule.resource}`, async () => {
      const got: Record<string, Answer> = {};
      const want: Record<string, Answer> = {};
      const auditGot: Record<string, string> = {};
      const auditWant: Record<string, string> = {};
      for (const actor of actors) {
        const { answer, result, audited } = await callAs(actor, name);
        got[actor] = answer;
        want[actor] = expectedAnswer(name, rule, actor);
        if (audited) {
          // Administrative acts, consult and board actions, exports: always; another lab's data: in the owner's (lab A's) chain.
          const auditRule = (rule as AccessRule).audit;
          const crossLab = !actor.endsWith(" A");
          auditGot[actor] = auditRule === "cross-lab" ? (audited.labA ? "in lab A's chain" : "none") : audited.any ? "audited" : "none";
          auditWant[actor] = noOpOnFixture.has(name)
            ? "none"
            : auditRule === "always"
              ? "audited"
              : auditRule === "cross-lab" && crossLab
                ? "in lab A's chain"
                : "none";
        }
        // What another lab's user is allowed to call must not hand them lab A's data.
        if (answer === "allowed" && (actor === "pathologist B" || actor === "admin B")) {
          const text = JSON.stringify(result ?? null);
          for (const secret of [ids.slide, ids.case, ids.consult, ids.upload, ids.node, ids.annotation, ids.board, ids.session, ids.closedSession])
            expect(text, `${name} as ${actor}`).not.toContain(secret);
        }
      }
      expect(got).toEqual(want);
      expect(auditGot, `${name}: audit entries written`).toEqual(auditWant);
      // An audited call that never succeeds on the fixtures is checked where its states are walked.
      const exercised = Object.keys(auditGot).some((actor) => auditWant[actor] !== "none");
      if ((rule as AccessRule).audit) expect(exercised || auditCheckedElsewhere.has(name), `${name}: audited, but no call succeeded here`).toBe(true);
    });
  }
});

describe("tile service tokens", () => {
  const expect404 = (token: string, now?: number) =>
    expect(verifyTileToken(tileTokens.secret, token, { slideId: ids.slide!, version: "1", now }).ok).toBe(false);

  it("a forged or expired token is refused", async () => {
    const user = (await loadSessionUser(handle.db, userIds["granted B"]!))!;
    const { token, expiresAt } = await issueTileToken(handle.db, tileTokens, user, undefined, ids.slide!);
    expect(verifyTileToken(tileTokens.secret, token, { slideId: ids.slide!, version: "1" }).ok).toBe(true);
    expect404(token, expiresAt);
    expect404(
      signTileToken("forged-key-forged-key-forged-key-forged", {
        slideId: ids.slide!,
        version: "1",
        userId: user.id,
        issuedAt: Date.now(),
        expiresAt: Date.now() + 60_000,
      }),
    );
  });

  it("never outlives the grant: a grant ending in a minute caps the token at that minute", async () => {
    await answerOf(async (db) => {
      const ends = new Date(Date.now() + 60_000);
      await db.update(schema.accessGrants).set({ expiresAt: ends }).where(eqGrantee(userIds["granted B"]!));
      const user = (await loadSessionUser(db, userIds["granted B"]!))!;
      const { expiresAt } = await issueTileToken(db, tileTokens, user, undefined, ids.slide!);
      expect(expiresAt).toBe(ends.getTime());
    });
  });

  it("a withdrawn consult revokes the consultant's tokens over the event bus", async () => {
    await answerOf(async (db) => {
      const consultant = (await loadSessionUser(db, userIds["granted B"]!))!;
      const { token } = await issueTileToken(db, tileTokens, consultant, undefined, ids.slide!);
      const requester = (await loadSessionUser(db, userIds["pathologist A"]!))!;
      await withdrawConsult(db, requester, ids.consult!);
      const rows = await db.select().from(schema.events).where(eqTopic(REVOCATIONS_TOPIC));
      const list = createRevocationList({ keepMs: 600_000 });
      for (const row of rows) for (const pair of parseRevocation(row.payload)!.pairs) list.add({ ...pair, at: parseRevocation(row.payload)!.at });
      const check = verifyTileToken(tileTokens.secret, token, { slideId: ids.slide!, version: "1" });
      expect(check.ok && list.isRevoked(check.payload)).toBe(true);
      // And the renewal is refused: the grant has ended.
      await expect(issueTileToken(db, tileTokens, consultant, undefined, ids.slide!)).rejects.toMatchObject({ code: "NOT_FOUND" });
    });
  });
});

const eqGrantee = (userId: string) => eq(schema.accessGrants.granteeUserId, userId);
const eqTopic = (topic: string) => eq(schema.events.topic, topic);
