import { and, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, schema } from "@pathx/db";
import { ApiError, notFound } from "../errors";
import type { Membership, SessionUser } from "./users";
import { publishAccessRevocation } from "../events/revocations";
import { recordAudit } from "./audit";
import { notify } from "./notifications";
import { readStoredCodes, reportCodeInput } from "./report-codes";

const { consultRequests, consultSlides, consultReports, accessGrants, cases, slides, labs, users, memberships } = schema;

/** After a consult closes the consultant keeps read access this long (to re-check their report). */
export const CONSULT_GRACE_HOURS = 48;

export const consultDraftInput = z.object({
  caseId: z.string().uuid(),
  slideIds: z.array(z.string().uuid()).min(1, "Pick at least one slide.").max(50),
  question: z.string().trim().min(10, "Write the clinical question (at least 10 characters).").max(4000),
  urgency: z.enum(["routine", "urgent"]),
  targetLabId: z.string().uuid(),
  targetUserId: z.string().uuid().optional(),
  targetSubspecialty: z.string().trim().max(80).optional(),
  shareLabel: z.boolean().default(false),
});

export const consultReportInput = z.object({
  diagnosis: z.string().trim().min(3, "Write the diagnosis.").max(4000),
  comment: z.string().max(8000).default(""),
  codes: z.array(reportCodeInput).max(10).default([]),
});

type Consult = typeof consultRequests.$inferSelect;
type Role = "requester" | "consultant" | "candidate";

/** The subspecialty pools the user answers for, per lab. */
async function poolsOf(db: Db, userId: string): Promise<Map<string, string[]>> {
  const rows = await db
    .select({ labId: memberships.labId, subspecialties: memberships.subspecialties })
    .from(memberships)
    .where(eq(memberships.userId, userId));
  return new Map(rows.map((r) => [r.labId, r.subspecialties]));
}

/**
 * Who may act on a request: its lab's members (requester side), the consultant, or the people it
 * is addressed to. `pools` (the user's subspecialties per lab) is read once by callers that ask
 * about many requests.
 */
async function roleIn(db: Db, user: SessionUser, consult: Consult, pools?: Map<string, string[]>): Promise<Role | undefined> {
  if (user.memberships.some((m) => m.labId === consult.requesterLabId)) return "requester";
  if (consult.consultantUserId === user.id) return "consultant";
  if (consult.consultantUserId || consult.status === "draft") return undefined;
  if (!user.memberships.some((m) => m.labId === consult.targetLabId)) return undefined;
  if (consult.targetUserId) return consult.targetUserId === user.id ? "candidate" : undefined;
  const mine = (pools ?? (await poolsOf(db, user.id))).get(consult.targetLabId) ?? [];
  return mine.includes(consult.targetSubspecialty ?? "") ? "candidate" : undefined;
}

async function loadFor(db: Db, user: SessionUser, id: string) {
  if (!/^[0-9a-f-]{36}$/.test(id)) throw notFound("Request");
  const [consult] = await db.select().from(consultRequests).where(eq(consultRequests.id, id)).limit(1);
  const role = consult && (await roleIn(db, user, consult));
  if (!consult || !role) throw notFound("Request");
  return { consult, role };
}

function expectStatus(consult: Consult, allowed: Consult["status"][], action: string) {
  if (!allowed.includes(consult.status)) throw new ApiError("CONFLICT", `This request is ${consult.status}; it cannot be ${action} now.`);
}

/** The people a sent request reaches: the named pathologist, or the lab's members in that subspecialty pool. */
async function addressees(db: Db, consult: Consult): Promise<string[]> {
  if (consult.targetUserId) return [consult.targetUserId];
  const rows = await db
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.labId, consult.targetLabId), sql`${consult.targetSubspecialty ?? ""} = any(${memberships.subspecialties})`));
  return rows.map((r) => r.userId);
}

const link = (id: string) => `/consults/${id}`;

export async function createConsultDraft(db: Db, user: SessionUser, lab: Membership, input: z.infer<typeof consultDraftInput>) {
  const [kase] = await db
    .select()
    .from(cases)
    .where(and(eq(cases.id, input.caseId), eq(cases.labId, lab.labId)))
    .limit(1);
  if (!kase) throw notFound("Case");
  const picked = await db
    .select({ id: slides.id })
    .from(slides)
    .where(and(eq(slides.caseId, kase.id), inArray(slides.id, input.slideIds)));
  if (picked.length !== new Set(input.slideIds).size) throw new ApiError("BAD_REQUEST", "Every slide must belong to this case.");
  if (input.targetLabId === lab.labId) throw new ApiError("BAD_REQUEST", "Ask a pathologist of another lab; colleagues in your lab see the case already.");
  const [target] = await db.select({ id: labs.id }).from(labs).where(eq(labs.id, input.targetLabId));
  if (!target) throw notFound("Lab");
  if (!input.targetUserId && !input.targetSubspecialty) throw new ApiError("BAD_REQUEST", "Address the request to a pathologist or to a subspecialty pool.");
  if (input.targetUserId) {
    const [member] = await db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.labId, input.targetLabId), eq(memberships.userId, input.targetUserId)));
    if (!member) throw new ApiError("BAD_REQUEST", "That pathologist is not a member of the chosen lab.");
  }
  return db.transaction(async (tx) => {
    const [created] = await tx
      .insert(consultRequests)
      .values({
        requesterLabId: lab.labId,
        requesterUserId: user.id,
        caseId: kase.id,
        question: input.question,
        urgency: input.urgency,
        targetLabId: input.targetLabId,
        targetUserId: input.targetUserId ?? null,
        targetSubspecialty: input.targetUserId ? null : input.targetSubspecialty!.toLowerCase(),
        shareLabel: input.shareLabel,
      })
      .returning();
    await tx.insert(consultSlides).values([...new Set(input.slideIds)].map((slideId) => ({ requestId: created!.id, slideId })));
    await auditConsult(tx as unknown as Db, user, created!, "create", { slideIds: [...new Set(input.slideIds)], targetLabId: input.targetLabId });
    return { id: created!.id };
  });
}

/** Every step of a second opinion is audited in the requesting lab's chain (whose case and slides it is). */
function auditConsult(db: Db, user: SessionUser, consult: Consult, step: string, detail: Record<string, unknown> = {}) {
  return recordAudit(db, {
    labId: consult.requesterLabId,
    actorUserId: user.id,
    action: `consult.${step}`,
    targetType: "consult",
    targetId: consult.id,
    detail: { targetLabId: consult.targetLabId, ...detail },
  });
}

async function setStatus(db: Db, id: string, values: Partial<Consult>) {
  await db
    .update(consultRequests)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(consultRequests.id, id));
}

export async function sendConsult(db: Db, user: SessionUser, id: string) {
  const { consult, role } = await loadFor(db, user, id);
  if (role !== "requester") throw notFound("Request");
  expectStatus(consult, ["draft"], "sent");
  const to = await addressees(db, consult);
  if (to.length === 0)
    throw new ApiError("BAD_REQUEST", `Nobody at that lab is in the ${consult.targetSubspecialty} pool; address a named pathologist instead.`);
  await setStatus(db, id, { status: "sent", sentAt: new Date() });
  await auditConsult(db, user, consult, "send");
  await notify(db, to, {
    kind: "consult.request",
    title: `${consult.urgency === "urgent" ? "URGENT " : ""}Second opinion requested by ${user.name}`,
    link: link(id),
  });
}

export async function withdrawConsult(db: Db, user: SessionUser, id: string) {
  const { consult, role } = await loadFor(db, user, id);
  if (role !== "requester") throw notFound("Request");
  expectStatus(consult, ["draft", "sent", "accepted"], "withdrawn");
  await setStatus(db, id, { status: "withdrawn", closedAt: new Date() });
  await auditConsult(db, user, consult, "withdraw");
  await endGrants(db, id, new Date());
  if (consult.consultantUserId)
    await notify(db, [consult.consultantUserId], {
      kind: "consult.withdrawn",
      title: `A second-opinion request was withdrawn by ${user.name}`,
      link: link(id),
    });
}

/** The consultant takes it: read-only access to exactly the request's slides, label only if the requesting lab allows. */
export async function acceptConsult(db: Db, user: SessionUser, id: string) {
  const { consult, role } = await loadFor(db, user, id);
  if (role !== "candidate") throw notFound("Request");
  expectStatus(consult, ["sent"], "accepted");
  const chosen = await db.select({ slideId: consultSlides.slideId }).from(consultSlides).where(eq(consultSlides.requestId, id));
  await db.transaction(async (tx) => {
    // Compare-and-set: of two pool members accepting at once, one wins.
    const [won] = await tx
      .update(consultRequests)
      .set({ status: "accepted", consultantUserId: user.id, acceptedAt: new Date(), updatedAt: new Date() })
      .where(and(eq(consultRequests.id, id), eq(consultRequests.status, "sent")))
      .returning({ id: consultRequests.id });
    if (!won) throw new ApiError("CONFLICT", "Someone else accepted this request first.");
    await tx
      .insert(accessGrants)
      .values(chosen.map((c) => ({ slideId: c.slideId, granteeUserId: user.id, reason: "consult" as const, sourceId: id, shareLabel: consult.shareLabel })));
    await auditConsult(tx as unknown as Db, user, consult, "accept", { slideIds: chosen.map((c) => c.slideId) });
  });
  await notify(db, [consult.requesterUserId], { kind: "consult.accepted", title: `${user.name} accepted your second-opinion request`, link: link(id) });
}

export async function declineConsult(db: Db, user: SessionUser, id: string, reason: string) {
  const { consult, role } = await loadFor(db, user, id);
  if (role !== "candidate" && role !== "consultant") throw notFound("Request");
  expectStatus(consult, ["sent", "accepted"], "declined");
  if (!reason.trim()) throw new ApiError("BAD_REQUEST", "Say why you decline, so the requester can ask someone else.");
  await setStatus(db, id, {
    status: "declined",
    declineReason: reason.trim().slice(0, 2000),
    consultantUserId: consult.consultantUserId ?? user.id,
    closedAt: new Date(),
  });
  await auditConsult(db, user, consult, "decline");
  await endGrants(db, id, new Date());
  await notify(db, [consult.requesterUserId], { kind: "consult.declined", title: `${user.name} declined your second-opinion request`, link: link(id) });
}

export async function reportConsult(db: Db, user: SessionUser, id: string, input: z.infer<typeof consultReportInput>) {
  const { consult, role } = await loadFor(db, user, id);
  if (role !== "consultant") throw notFound("Request");
  expectStatus(consult, ["accepted"], "reported");
  await db.transaction(async (tx) => {
    await tx.insert(consultReports).values({ requestId: id, authorUserId: user.id, diagnosis: input.diagnosis, comment: input.comment, codes: input.codes });
    await tx.update(consultRequests).set({ status: "reported", reportedAt: new Date(), updatedAt: new Date() }).where(eq(consultRequests.id, id));
    await auditConsult(tx as unknown as Db, user, consult, "report");
  });
  const requesterLab = await db.select({ userId: memberships.userId }).from(memberships).where(eq(memberships.labId, consult.requesterLabId));
  await notify(db, [consult.requesterUserId, ...requesterLab.map((m) => m.userId)], {
    kind: "consult.report",
    title: `Second-opinion report from ${user.name}`,
    link: link(id),
  });
}

/** The requester closes it; the consultant keeps access for the grace period. */
export async function closeConsult(db: Db, user: SessionUser, id: string) {
  const { consult, role } = await loadFor(db, user, id);
  if (role !== "requester") throw notFound("Request");
  expectStatus(consult, ["reported"], "closed");
  const now = new Date();
  await setStatus(db, id, { status: "closed", closedAt: now });
  await auditConsult(db, user, consult, "close");
  await endGrants(db, id, new Date(now.getTime() + CONSULT_GRACE_HOURS * 3600_000));
}

async function endGrants(db: Db, requestId: string, at: Date) {
  const ended = await db
    .update(accessGrants)
    .set({ expiresAt: at })
    .where(and(eq(accessGrants.sourceId, requestId), eq(accessGrants.reason, "consult"), isNull(accessGrants.revokedAt)))
    .returning({ userId: accessGrants.granteeUserId, slideId: accessGrants.slideId });
  // Ended now (withdrawn, declined): open viewers and tile tokens stop within seconds. A later
  // end (closed, with grace) needs no event: tokens never outlive the grant's expiry.
  if (at.getTime() <= Date.now()) await publishAccessRevocation(db, { pairs: ended });
}

function hoursBetween(from: Date | null, to: Date | null) {
  return from && to ? Math.round(((to.getTime() - from.getTime()) / 3600_000) * 10) / 10 : null;
}

export async function getConsult(db: Db, user: SessionUser, id: string) {
  const { consult, role } = await loadFor(db, user, id);
  const people = await db
    .select({ id: users.id, name: users.name, email: users.email })
    .from(users)
    .where(
      inArray(
        users.id,
        [consult.requesterUserId, consult.targetUserId, consult.consultantUserId].filter((x): x is string => Boolean(x)),
      ),
    );
  const name = (uid: string | null) => people.find((p) => p.id === uid)?.name ?? null;
  const labRows = await db
    .select({ id: labs.id, name: labs.name })
    .from(labs)
    .where(inArray(labs.id, [consult.requesterLabId, consult.targetLabId]));
  const [kase] = await db.select().from(cases).where(eq(cases.id, consult.caseId));
  const slideRows = await db
    .select({ id: slides.id, block: slides.block, stain: slides.stain, status: slides.status, hasThumbnail: sql<boolean>`${slides.thumbnailKey} is not null` })
    .from(consultSlides)
    .innerJoin(slides, eq(slides.id, consultSlides.slideId))
    .where(eq(consultSlides.requestId, id))
    .orderBy(slides.block, slides.stain);
  const [report] = await db.select().from(consultReports).where(eq(consultReports.requestId, id));
  return {
    id: consult.id,
    role,
    status: consult.status,
    urgency: consult.urgency,
    question: consult.question,
    shareLabel: consult.shareLabel,
    declineReason: consult.declineReason,
    requester: { name: name(consult.requesterUserId), lab: labRows.find((l) => l.id === consult.requesterLabId)?.name ?? "" },
    target: {
      lab: labRows.find((l) => l.id === consult.targetLabId)?.name ?? "",
      pathologist: name(consult.targetUserId),
      subspecialty: consult.targetSubspecialty,
    },
    consultant: name(consult.consultantUserId),
    case: { id: kase!.id, accessionNumber: kase!.accessionNumber, specimen: kase!.specimen },
    slides: slideRows,
    report: report
      ? { diagnosis: report.diagnosis, comment: report.comment, codes: readStoredCodes(report.codes), at: report.createdAt, author: name(report.authorUserId) }
      : null,
    times: { created: consult.createdAt, sent: consult.sentAt, accepted: consult.acceptedAt, reported: consult.reportedAt, closed: consult.closedAt },
    /** Hours from sending to the report (or to now while open). */
    turnaroundHours: hoursBetween(consult.sentAt, consult.reportedAt ?? (consult.sentAt && !consult.closedAt ? new Date() : null)),
  };
}

/** Requests of the user's lab (outgoing) and those addressed to the user (incoming). */
export async function listConsults(db: Db, user: SessionUser) {
  const labIds = user.memberships.map((m) => m.labId);
  const rows = await db
    .select({ c: consultRequests, accession: cases.accessionNumber })
    .from(consultRequests)
    .innerJoin(cases, eq(cases.id, consultRequests.caseId))
    .where(
      or(
        labIds.length ? inArray(consultRequests.requesterLabId, labIds) : undefined,
        eq(consultRequests.consultantUserId, user.id),
        labIds.length
          ? and(
              inArray(consultRequests.targetLabId, labIds),
              inArray(consultRequests.status, ["sent", "accepted", "reported", "declined", "closed", "withdrawn"]),
            )
          : undefined,
      ),
    )
    .orderBy(desc(consultRequests.updatedAt))
    .limit(200);
  const pools = await poolsOf(db, user.id);
  const visible = [];
  for (const r of rows) {
    const role = await roleIn(db, user, r.c, pools);
    if (role)
      visible.push({
        id: r.c.id,
        role,
        status: r.c.status,
        urgency: r.c.urgency,
        accessionNumber: r.accession,
        question: r.c.question,
        updatedAt: r.c.updatedAt,
        sentAt: r.c.sentAt,
        reportedAt: r.c.reportedAt,
        turnaroundHours: hoursBetween(r.c.sentAt, r.c.reportedAt),
      });
  }
  return visible;
}

/** Requests about one case of the lab, with their reports: shown on the case page. */
export async function listCaseConsults(db: Db, user: SessionUser, lab: Membership, caseId: string) {
  const [kase] = await db
    .select({ id: cases.id })
    .from(cases)
    .where(and(eq(cases.id, caseId), eq(cases.labId, lab.labId)));
  if (!kase) throw notFound("Case");
  const rows = await db
    .select({ id: consultRequests.id })
    .from(consultRequests)
    .where(and(eq(consultRequests.caseId, caseId), eq(consultRequests.requesterLabId, lab.labId)))
    .orderBy(desc(consultRequests.createdAt));
  return Promise.all(rows.map((r) => getConsult(db, user, r.id)));
}

/** Pathologists of other labs and their pools, for addressing a request. */
export async function listConsultTargets(db: Db, lab: Membership) {
  const rows = await db
    .select({ labId: labs.id, labName: labs.name, userId: users.id, name: users.name, subspecialties: memberships.subspecialties })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .innerJoin(labs, eq(labs.id, memberships.labId))
    .where(and(sql`${memberships.labId} <> ${lab.labId}`, eq(memberships.role, "pathologist")))
    .orderBy(labs.name, users.name);
  return rows;
}
