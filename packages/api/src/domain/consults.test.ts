import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { resolveSlideAccess } from "../access/slide-access";
import { listRemoteViews } from "./audit";
import { exportConsultFhir } from "./consult-fhir";
import { validateFhirR4 } from "./fhir-r4-schema.test-support";
import {
  acceptConsult,
  closeConsult,
  consultReportInput,
  createConsultDraft,
  declineConsult,
  getConsult,
  listConsults,
  reportConsult,
  sendConsult,
  withdrawConsult,
} from "./consults";
import { countUnread, listInbox, markRead, notify } from "./notifications";
import { listPriors, openPrior, setCaseStatus } from "./priors";
import { getViewableSlide } from "./slides";
import { type SessionUser, loadSessionUser } from "./users";

let handle: DbHandle;
const ids: Record<string, string> = {};
const users: Record<string, SessionUser> = {};

beforeAll(async () => {
  handle = await createTestDb();
  const db = handle.db;
  const [north, south, east] = await db
    .insert(schema.labs)
    .values([
      { slug: "north", name: "North" },
      { slug: "south", name: "South" },
      { slug: "east", name: "East" },
    ])
    .returning();
  const people = await db
    .insert(schema.users)
    .values([
      { email: "ana@n", name: "Ana" },
      { email: "bo@s", name: "Bo" },
      { email: "cy@s", name: "Cy" },
      { email: "di@e", name: "Di" },
    ])
    .returning();
  const [ana, bo, cy, di] = people;
  await db.insert(schema.memberships).values([
    { userId: ana!.id, labId: north!.id, role: "pathologist" },
    { userId: bo!.id, labId: south!.id, role: "pathologist", subspecialties: ["dermatopathology"] },
    { userId: cy!.id, labId: south!.id, role: "pathologist", subspecialties: ["dermatopathology"] },
    { userId: di!.id, labId: east!.id, role: "pathologist" },
  ]);
  const [kase, southCase, eastCase] = await db
    .insert(schema.cases)
    .values([
      { labId: north!.id, accessionNumber: "N1", patientPseudonym: "hmac:p1", specimen: "skin" },
      { labId: south!.id, accessionNumber: "S1", patientPseudonym: "hmac:p1", specimen: "skin, earlier" },
      { labId: east!.id, accessionNumber: "E1", patientPseudonym: "hmac:p2" },
    ])
    .returning();
  const slide = (labId: string, caseId: string, block: string) => ({
    labId,
    caseId,
    block,
    stain: "H&E",
    fileName: `${block}.svs`,
    sizeBytes: 1,
    sha256: `${block}-sha`,
    sourceKey: `sources/${block}`,
  });
  const [a1, a2, s1] = await db
    .insert(schema.slides)
    .values([slide(north!.id, kase!.id, "A1"), slide(north!.id, kase!.id, "A2"), slide(south!.id, southCase!.id, "S1")])
    .returning();
  Object.assign(ids, {
    north: north!.id,
    south: south!.id,
    east: east!.id,
    case: kase!.id,
    southCase: southCase!.id,
    eastCase: eastCase!.id,
    a1: a1!.id,
    a2: a2!.id,
    s1: s1!.id,
    bo: bo!.id,
  });
  for (const [key, u] of Object.entries({ ana, bo, cy, di })) users[key] = (await loadSessionUser(db, u!.id))!;
});
afterAll(() => handle.close());

const lab = (user: SessionUser) => user.memberships[0]!;

/** The audit entries about a consult in North's chain (the requester's), in chain order: action and who. */
async function consultAudit(consultId: string) {
  const rows = await handle.db
    .select({ action: schema.auditEvents.action, who: schema.users.name })
    .from(schema.auditEvents)
    .innerJoin(schema.users, eq(schema.users.id, schema.auditEvents.actorUserId))
    .where(and(eq(schema.auditEvents.labId, ids.north!), eq(schema.auditEvents.targetId, consultId)))
    .orderBy(schema.auditEvents.seq);
  return rows.map((r) => [r.action, r.who]);
}

describe("second opinion", () => {
  it("runs draft → sent → accepted → reported → closed, with read access to exactly the chosen slides", async () => {
    const db = handle.db;
    const { id } = await createConsultDraft(db, users.ana!, lab(users.ana!), {
      caseId: ids.case!,
      slideIds: [ids.a1!],
      question: "Melanocytic lesion: melanoma in situ or dysplastic naevus?",
      urgency: "urgent",
      targetLabId: ids.south!,
      targetSubspecialty: "Dermatopathology",
      shareLabel: false,
    });
    // A draft reaches nobody.
    await expect(getConsult(db, users.bo!, id)).rejects.toThrow(/not found/);
    await sendConsult(db, users.ana!, id);
    expect(await countUnread(db, users.bo!.id)).toBe(1);
    // Their open pages hear of it through the event bus.
    const inboxEvents = await db
      .select()
      .from(schema.events)
      .where(eq(schema.events.topic, `inbox:${users.bo!.id}`));
    expect(inboxEvents.map((e) => e.payload)).toEqual([{ kind: "consult.request" }]);
    expect((await listInbox(db, users.cy!.id))[0]).toMatchObject({ kind: "consult.request", link: `/consults/${id}`, title: expect.stringMatching(/^URGENT/) });
    // Not addressed to East, and the pool members see it before anyone accepts.
    await expect(getConsult(db, users.di!, id)).rejects.toThrow(/not found/);
    expect((await listConsults(db, users.cy!)).map((c) => c.id)).toContain(id);

    expect(await resolveSlideAccess(db, users.bo!, ids.a1!)).toBeUndefined();
    await acceptConsult(db, users.bo!, id);
    await expect(acceptConsult(db, users.cy!, id)).rejects.toThrow(/not found/); // taken by Bo: Cy no longer has a part
    expect(await resolveSlideAccess(db, users.bo!, ids.a1!)).toMatchObject({ via: "grant", shareLabel: false });
    expect(await resolveSlideAccess(db, users.bo!, ids.a2!)).toBeUndefined(); // not chosen
    expect(await resolveSlideAccess(db, users.cy!, ids.a1!)).toBeUndefined();
    const viewed = await getViewableSlide(db, users.bo!, lab(users.bo!), ids.a1!);
    expect(viewed).toMatchObject({ via: "grant", labName: "North", hasLabel: false });
    await getViewableSlide(db, users.bo!, lab(users.bo!), ids.a1!); // the same viewing session: recorded once
    expect(await listRemoteViews(db, ids.north!)).toEqual([expect.objectContaining({ viewer: "Bo", viewerLab: "South", action: "slide.view" })]);

    await expect(closeConsult(db, users.ana!, id)).rejects.toThrow(/accepted; it cannot be closed/);
    const codes = [
      { system: "icdO" as const, code: "8720/2", display: "Melanoma in situ" },
      { system: "snomed" as const, code: "1162635006", display: "" },
    ];
    expect(() => consultReportInput.parse({ diagnosis: "Melanoma in situ", codes: [{ system: "icdO", code: "8720" }] })).toThrow(/not a valid ICD-O-3 code/);
    await reportConsult(db, users.bo!, id, consultReportInput.parse({ diagnosis: "Melanoma in situ", comment: "Pagetoid spread.", codes }));
    const reported = await getConsult(db, users.ana!, id);
    expect(reported).toMatchObject({ status: "reported", role: "requester", consultant: "Bo", report: { diagnosis: "Melanoma in situ", codes } });
    expect(reported.turnaroundHours).toBeGreaterThanOrEqual(0);
    expect((await listInbox(db, users.ana!.id)).map((n) => n.kind)).toEqual(["consult.report", "consult.accepted"]);
    // Opening the request directly reads its entries, and only those.
    await notify(db, [users.ana!.id], { kind: "other", title: "Something else", link: "/boards" });
    const unread = await countUnread(db, users.ana!.id);
    await markRead(db, users.ana!.id, { link: `/consults/${id}` });
    expect(await countUnread(db, users.ana!.id)).toBe(unread - 2);
    expect((await listInbox(db, users.ana!.id)).filter((n) => !n.readAt).map((n) => n.link)).toEqual(["/boards"]);

    const fhir = await exportConsultFhir(db, users.ana!, id);
    expect(fhir.entry.map((e) => (e.resource as { resourceType: string }).resourceType)).toEqual(["ServiceRequest", "Task", "DiagnosticReport"]);
    expect(fhir.entry[0]!.resource).toMatchObject({ priority: "urgent", status: "completed", note: [{ text: expect.stringContaining("Melanocytic") }] });
    expect(fhir.entry[1]!.resource).toMatchObject({ status: "completed", basedOn: [{ reference: fhir.entry[0]!.fullUrl }] });
    expect(fhir.entry[2]!.resource).toMatchObject({
      status: "final",
      conclusion: "Melanoma in situ",
      conclusionCode: [
        { coding: [{ system: "http://terminology.hl7.org/CodeSystem/icd-o-3", code: "8720/2", display: "Melanoma in situ" }] },
        { coding: [{ system: "http://snomed.info/sct", code: "1162635006" }], text: "SNOMED CT 1162635006" },
      ],
    });
    expect(JSON.stringify(fhir)).not.toContain("urn:pathx:code");
    expect(validateFhirR4(fhir)).toEqual([]);
    // The schema check itself notices a Bundle that is not R4.
    const broken = structuredClone(fhir) as { entry: { resource: { status?: string } }[] };
    broken.entry[2]!.resource.status = "signed";
    expect(validateFhirR4(broken)).not.toEqual([]);
    expect(JSON.stringify(fhir)).not.toContain("hmac:p1");

    await closeConsult(db, users.ana!, id);
    // The consultant keeps access for the grace period, then loses it.
    expect(await resolveSlideAccess(db, users.bo!, ids.a1!)).toBeDefined();
    await db
      .update(schema.accessGrants)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(schema.accessGrants.sourceId, id));
    expect(await resolveSlideAccess(db, users.bo!, ids.a1!)).toBeUndefined();
    // Every step, the view and the export are in the requesting (owning) lab's audit chain, by whom.
    expect(await consultAudit(id)).toEqual([
      ["consult.create", "Ana"],
      ["consult.send", "Ana"],
      ["consult.accept", "Bo"],
      ["consult.report", "Bo"],
      ["consult.export.fhir", "Ana"],
      ["consult.close", "Ana"],
    ]);
  });

  it("declines with a reason, withdraws, and refuses wrong addressing", async () => {
    const db = handle.db;
    const draft = (extra: object) =>
      createConsultDraft(db, users.ana!, lab(users.ana!), {
        caseId: ids.case!,
        slideIds: [ids.a2!],
        question: "Second look at margin please.",
        urgency: "routine",
        targetLabId: ids.south!,
        shareLabel: true,
        ...extra,
      });
    await expect(draft({ targetLabId: ids.north!, targetUserId: users.bo!.id })).rejects.toThrow(/another lab/);
    await expect(draft({ targetUserId: users.di!.id })).rejects.toThrow(/not a member/);
    await expect(draft({})).rejects.toThrow(/Address the request/);
    await expect(draft({ slideIds: [ids.s1!], targetUserId: users.bo!.id })).rejects.toThrow(/belong to this case/);

    const { id } = await draft({ targetUserId: users.bo!.id });
    await sendConsult(db, users.ana!, id);
    await expect(getConsult(db, users.cy!, id)).rejects.toThrow(/not found/); // named: not the pool
    await expect(declineConsult(db, users.bo!, id, " ")).rejects.toThrow(/Say why/);
    await declineConsult(db, users.bo!, id, "Outside my field");
    expect(await getConsult(db, users.ana!, id)).toMatchObject({ status: "declined", declineReason: "Outside my field" });

    const second = await draft({ targetUserId: users.bo!.id });
    await sendConsult(db, users.ana!, second.id);
    await acceptConsult(db, users.bo!, second.id);
    expect(await resolveSlideAccess(db, users.bo!, ids.a2!)).toMatchObject({ via: "grant", shareLabel: true });
    await withdrawConsult(db, users.ana!, second.id);
    expect(await resolveSlideAccess(db, users.bo!, ids.a2!)).toBeUndefined();
    expect((await consultAudit(id)).map(([action]) => action)).toEqual(["consult.create", "consult.send", "consult.decline"]);
    expect((await consultAudit(second.id)).map(([action]) => action)).toEqual(["consult.create", "consult.send", "consult.accept", "consult.withdraw"]);
  });
});

describe("prior studies", () => {
  it("lists the patient's slides at every lab; another lab's opens with a reason, audited, while the case is open", async () => {
    const db = handle.db;
    const priors = await listPriors(db, users.ana!, lab(users.ana!), ids.case!);
    expect(priors.groups.map((g) => [g.labName, g.own, g.cases.map((c) => c.accessionNumber)])).toEqual([
      ["North", true, ["N1"]],
      ["South", false, ["S1"]],
    ]);
    expect(await resolveSlideAccess(db, users.ana!, ids.s1!)).toBeUndefined();
    await openPrior(db, users.ana!, lab(users.ana!), { caseId: ids.case!, slideId: ids.s1!, reason: "current diagnosis" });
    expect(await resolveSlideAccess(db, users.ana!, ids.s1!)).toMatchObject({ via: "prior" });
    const audit = await listRemoteViews(db, ids.south!);
    expect(audit[0]).toMatchObject({ action: "prior.open", viewer: "Ana", viewerLab: "North", reason: "current diagnosis", accession: "S1" });
    // East has no case for this patient: nothing to open.
    await expect(openPrior(db, users.di!, lab(users.di!), { caseId: ids.eastCase!, slideId: ids.s1!, reason: "curious" })).rejects.toThrow(/not found/);
    // Once the case is signed out, the reason no longer opens the prior.
    await setCaseStatus(db, lab(users.ana!), ids.case!, "signed_out");
    expect(await resolveSlideAccess(db, users.ana!, ids.s1!)).toBeUndefined();
    await expect(openPrior(db, users.ana!, lab(users.ana!), { caseId: ids.case!, slideId: ids.s1!, reason: "current diagnosis" })).rejects.toThrow(/open case/);
    await setCaseStatus(db, lab(users.ana!), ids.case!, "open");
  });
});
