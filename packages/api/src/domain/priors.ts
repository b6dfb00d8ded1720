import { and, asc, countDistinct, desc, eq, gt, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { type Db, schema } from "@pathx/db";
import { hasOpenCaseForPatientOf } from "../access/slide-access";
import { ApiError, notFound } from "../errors";
import { publishAccessRevocation } from "../events/revocations";
import { recordAudit } from "./audit";
import type { Membership, SessionUser } from "./users";

const { cases, slides, labs, auditEvents, users } = schema;

/** A user's repeated look-ups of one case within this time are one audit entry (the case page refreshes itself). */
const LOOKUP_AUDIT_MINUTES = 10;
/** Distinct cases per hour a lab may look priors up for without a slide of that patient of its own. */
export const FLAGGED_LOOKUPS_PER_HOUR = 10;

export const priorReasons = ["current diagnosis", "tumor board", "comparison with earlier specimen", "treatment planning"] as const;
export const openPriorInput = z.object({
  caseId: z.string().uuid(),
  slideId: z.string().uuid(),
  reason: z.string().trim().min(3, "Say why you open this prior study.").max(300),
});

/**
 * The patient's slides at every lab, matched on the pseudonym only, grouped by lab and case
 * date; index-only slides included. Lists what exists without showing pixels: opening one of
 * another lab's asks for a reason (openPrior).
 */
export async function listPriors(db: Db, user: SessionUser, lab: Membership, caseId: string) {
  const [kase] = await db
    .select()
    .from(cases)
    .where(and(eq(cases.id, caseId), eq(cases.labId, lab.labId)))
    .limit(1);
  if (!kase) throw notFound("Case");
  if (kase.patientPseudonym.startsWith("unlinked-")) return { linked: false, caseOpen: kase.status === "open", flagged: false, groups: [] };
  const rows = await db
    .select({ slide: slides, kase: cases, labName: labs.name })
    .from(slides)
    .innerJoin(cases, eq(cases.id, slides.caseId))
    .innerJoin(labs, eq(labs.id, slides.labId))
    .where(eq(cases.patientPseudonym, kase.patientPseudonym))
    .orderBy(asc(labs.name), desc(cases.receivedAt), desc(cases.createdAt), asc(slides.block));
  // A lab with no slide of this patient that is not a failed one (an index record from its node
  // counts) is looking up someone else's patient: flagged, and limited per hour.
  const flagged = !rows.some((r) => r.slide.labId === lab.labId && r.slide.status !== "failed");
  await auditPriorLookup(db, user, lab, kase, flagged, [...new Set(rows.map((r) => r.slide.labId))]);
  const groups = new Map<
    string,
    {
      labId: string;
      labName: string;
      own: boolean;
      cases: Map<string, { caseId: string; accessionNumber: string; date: Date; specimen: string; current: boolean; slides: object[] }>;
    }
  >();
  for (const r of rows) {
    const group = groups.get(r.slide.labId) ?? { labId: r.slide.labId, labName: r.labName, own: r.slide.labId === lab.labId, cases: new Map() };
    groups.set(r.slide.labId, group);
    const entry = group.cases.get(r.kase.id) ?? {
      caseId: r.kase.id,
      accessionNumber: r.kase.accessionNumber,
      date: r.kase.receivedAt ?? r.kase.createdAt,
      specimen: r.kase.specimen,
      current: r.kase.id === kase.id,
      slides: [],
    };
    group.cases.set(r.kase.id, entry);
    entry.slides.push({
      id: r.slide.id,
      block: r.slide.block,
      stain: r.slide.stain,
      status: r.slide.status,
      indexOnly: Boolean(r.slide.nodeRef) && !r.slide.sourceKey,
      hasThumbnail: Boolean(r.slide.thumbnailKey),
    });
  }
  const ordered = [...groups.values()].sort((a, b) => Number(b.own) - Number(a.own) || a.labName.localeCompare(b.labName));
  return { linked: true, caseOpen: kase.status === "open", flagged, groups: ordered.map((g) => ({ ...g, cases: [...g.cases.values()] })) };
}

/**
 * Listing priors is itself audited, with the case it was done for: under the looking lab and
 * under every lab whose slides of the patient it listed (their admins see who looked). A flagged
 * look-up beyond FLAGGED_LOOKUPS_PER_HOUR distinct cases an hour is refused.
 */
async function auditPriorLookup(db: Db, user: SessionUser, lab: Membership, kase: typeof cases.$inferSelect, flagged: boolean, labIds: string[]) {
  const hourAgo = new Date(Date.now() - 3600_000);
  const ofLab = and(eq(auditEvents.labId, lab.labId), eq(auditEvents.action, "prior.lookup"));
  if (flagged) {
    const [recent] = await db
      .select({ cases: countDistinct(auditEvents.targetId) })
      .from(auditEvents)
      .where(and(ofLab, gt(auditEvents.createdAt, hourAgo), ne(auditEvents.targetId, kase.id), sql`${auditEvents.detail}->>'flagged' = 'true'`));
    if (Number(recent?.cases ?? 0) >= FLAGGED_LOOKUPS_PER_HOUR) {
      throw new ApiError("FORBIDDEN", "Too many prior look-ups for patients your lab has no slide of; try again in an hour, or ask the hub operator.");
    }
  }
  const [seen] = await db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(
      and(
        ofLab,
        eq(auditEvents.actorUserId, user.id),
        eq(auditEvents.targetId, kase.id),
        gt(auditEvents.createdAt, new Date(Date.now() - LOOKUP_AUDIT_MINUTES * 60_000)),
      ),
    )
    .limit(1);
  if (seen) return;
  const detail = { viewerLabId: lab.labId, caseId: kase.id, accession: kase.accessionNumber, flagged };
  for (const labId of new Set([lab.labId, ...labIds])) {
    await recordAudit(db, { labId, actorUserId: user.id, action: "prior.lookup", targetType: "case", targetId: kase.id, detail });
  }
}

/** Who from other labs listed this lab's slides as priors of their patient, when, for which case, and whether flagged. */
export async function listPriorLookups(db: Db, labId: string, limit = 200) {
  const rows = await db
    .select({ id: auditEvents.id, at: auditEvents.createdAt, detail: auditEvents.detail, viewer: users.name, viewerEmail: users.email })
    .from(auditEvents)
    .leftJoin(users, eq(users.id, auditEvents.actorUserId))
    .where(and(eq(auditEvents.labId, labId), eq(auditEvents.action, "prior.lookup"), sql`${auditEvents.detail}->>'viewerLabId' <> ${labId}`))
    .orderBy(desc(auditEvents.createdAt))
    .limit(limit);
  const labIds = [...new Set(rows.map((r) => (r.detail as { viewerLabId: string }).viewerLabId))];
  const names = new Map(
    labIds.length ? (await db.select({ id: labs.id, name: labs.name }).from(labs).where(inArray(labs.id, labIds))).map((l) => [l.id, l.name]) : [],
  );
  return rows.map((r) => {
    const detail = r.detail as { viewerLabId: string; accession?: string; flagged?: boolean };
    return {
      id: r.id,
      at: r.at,
      viewer: r.viewer ?? "deleted user",
      viewerEmail: r.viewerEmail ?? "",
      viewerLab: names.get(detail.viewerLabId) ?? "",
      accession: detail.accession ?? "",
      flagged: detail.flagged === true,
    };
  });
}

/**
 * Records why the user opens another lab's prior study (the owning lab's admin sees it). Allowed
 * only while the user's lab has an open case for the same patient.
 */
export async function openPrior(db: Db, user: SessionUser, lab: Membership, input: z.infer<typeof openPriorInput>) {
  const [kase] = await db
    .select()
    .from(cases)
    .where(and(eq(cases.id, input.caseId), eq(cases.labId, lab.labId)))
    .limit(1);
  if (!kase) throw notFound("Case");
  const [prior] = await db
    .select({ slide: slides, kase: cases })
    .from(slides)
    .innerJoin(cases, eq(cases.id, slides.caseId))
    .where(eq(slides.id, input.slideId))
    .limit(1);
  if (!prior || prior.kase.patientPseudonym !== kase.patientPseudonym || kase.patientPseudonym.startsWith("unlinked-")) throw notFound("Slide");
  if (prior.slide.labId === lab.labId) return { slideId: prior.slide.id };
  if (kase.status !== "open" || !(await hasOpenCaseForPatientOf(db, [lab.labId], prior.kase.id))) {
    throw new ApiError("FORBIDDEN", "Prior studies of other labs can be opened only while your lab has an open case for this patient.");
  }
  await recordAudit(db, {
    labId: prior.slide.labId,
    actorUserId: user.id,
    action: "prior.open",
    targetType: "slide",
    targetId: prior.slide.id,
    detail: { reason: input.reason, viewerLabId: lab.labId, caseId: kase.id, accession: prior.kase.accessionNumber },
  });
  return { slideId: prior.slide.id };
}

/** Open or sign out a case: priors of other labs can be opened only while it is open. */
export async function setCaseStatus(db: Db, lab: Membership, caseId: string, status: "open" | "signed_out") {
  const [row] = await db
    .update(cases)
    .set({ status })
    .where(and(eq(cases.id, caseId), eq(cases.labId, lab.labId)))
    .returning({ id: cases.id, pseudonym: cases.patientPseudonym });
  if (!row) throw notFound("Case");
  if (status === "signed_out") await revokePriorAccess(db, lab.labId, caseId, row.pseudonym);
}

/**
 * Signing out the lab's last open case of a patient ends its members' access to that
 * patient's slides at other labs (priors): their tile tokens for them stop within seconds.
 */
async function revokePriorAccess(db: Db, labId: string, caseId: string, pseudonym: string) {
  if (pseudonym.startsWith("unlinked-") || (await hasOpenCaseForPatientOf(db, [labId], caseId))) return;
  const priorSlides = await db
    .select({ id: schema.slides.id })
    .from(schema.slides)
    .innerJoin(cases, eq(cases.id, schema.slides.caseId))
    .where(and(eq(cases.patientPseudonym, pseudonym), ne(cases.labId, labId)));
  if (priorSlides.length === 0) return;
  const members = await db.select({ userId: schema.memberships.userId }).from(schema.memberships).where(eq(schema.memberships.labId, labId));
  await publishAccessRevocation(db, { pairs: members.flatMap((m) => priorSlides.map((s) => ({ userId: m.userId, slideId: s.id }))) });
}
