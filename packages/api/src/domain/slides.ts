import { and, desc, eq, gt, ilike, or } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { type SlideAccess, resolveSlideAccess } from "../access/slide-access";
import { notFound } from "../errors";
import { recordAudit } from "./audit";
import type { Membership, SessionUser } from "./users";
import { describeFetch } from "./indexed-slides";

const { slides, cases } = schema;

export type SlideRow = typeof slides.$inferSelect;
export type CaseRow = typeof cases.$inferSelect;

/** The fields a pathologist sees in lists: no storage keys. */
function publicSlide(s: SlideRow) {
  return {
    id: s.id,
    caseId: s.caseId,
    block: s.block,
    stain: s.stain,
    status: s.status,
    failureReason: s.failureReason,
    progress: s.progress,
    fileName: s.fileName,
    width: s.width,
    height: s.height,
    mppX: s.mppX,
    objectivePower: s.objectivePower,
    vendor: s.vendor,
    hasThumbnail: Boolean(s.thumbnailKey),
    /** Index-only: registered by the lab's node, the file itself still at the lab. */
    indexOnly: Boolean(s.nodeRef) && !s.sourceKey,
    /** Whether the hub holds the label / macro (only when the lab's policy let its node send them). */
    hasLabel: Boolean(s.labelKey),
    hasMacro: Boolean(s.macroKey),
    updatedAt: s.updatedAt,
  };
}

export async function listLabSlides(db: Db, labId: string, search?: string, nodeId?: string) {
  const term = search?.trim();
  const rows = await db
    .select({ slide: slides, accessionNumber: cases.accessionNumber, specimen: cases.specimen })
    .from(slides)
    .innerJoin(cases, eq(cases.id, slides.caseId))
    .where(
      and(
        eq(slides.labId, labId),
        term ? or(ilike(cases.accessionNumber, `%${term}%`), ilike(slides.fileName, `%${term}%`)) : undefined,
        nodeId ? eq(slides.publishedByNodeId, nodeId) : undefined,
      ),
    )
    .orderBy(desc(slides.createdAt))
    .limit(200);
  return rows.map((r) => ({ ...publicSlide(r.slide), accessionNumber: r.accessionNumber, specimen: r.specimen }));
}

export async function getLabSlide(db: Db, labId: string, slideId: string) {
  const [row] = await db
    .select({ slide: slides, kase: cases })
    .from(slides)
    .innerJoin(cases, eq(cases.id, slides.caseId))
    .where(and(eq(slides.labId, labId), eq(slides.id, slideId)))
    .limit(1);
  if (!row) throw notFound("Slide");
  const fetch = row.slide.nodeRef ? await describeFetch(db, row.slide.id) : undefined;
  return {
    ...publicSlide(row.slide),
    mppY: row.slide.mppY,
    fetch,
    case: { id: row.kase.id, accessionNumber: row.kase.accessionNumber, specimen: row.kase.specimen },
  };
}

export async function getLabCase(db: Db, labId: string, caseId: string) {
  const [kase] = await db
    .select()
    .from(cases)
    .where(and(eq(cases.labId, labId), eq(cases.id, caseId)))
    .limit(1);
  if (!kase) throw notFound("Case");
  const rows = await db
    .select()
    .from(slides)
    .where(and(eq(slides.labId, labId), eq(slides.caseId, caseId)))
    .orderBy(slides.block, slides.stain);
  return {
    id: kase.id,
    accessionNumber: kase.accessionNumber,
    specimen: kase.specimen,
    status: kase.status,
    collectedAt: kase.collectedAt,
    receivedAt: kase.receivedAt,
    slides: rows.map(publicSlide),
  };
}

/**
 * A slide for the viewer: the user's own lab's, or another lab's through a grant or a prior
 * opened with a reason. Every view of another lab's slide is audited for that lab.
 */
export async function getViewableSlide(db: Db, user: SessionUser, lab: Membership | undefined, slideId: string) {
  const access = await resolveSlideAccess(db, user, slideId);
  if (!access) throw notFound("Slide");
  const slide = await getLabSlide(db, access.slide.labId, slideId);
  const [owner] = await db.select({ name: schema.labs.name }).from(schema.labs).where(eq(schema.labs.id, access.slide.labId));
  await recordRemoteView(db, user, lab, access, slide.case.accessionNumber);
  return { ...slide, via: access.via, grant: access.grant, labName: owner?.name ?? "", hasLabel: slide.hasLabel && access.shareLabel };
}

/**
 * A view of another lab's slide, recorded for that lab: once per viewing session (the slide
 * page, and the tile token its viewer gets, renewals included, are one view).
 */
export async function recordRemoteView(db: Db, user: SessionUser, lab: Membership | undefined, access: SlideAccess, accession?: string) {
  if (access.via === "own-lab" || (await viewedRecently(db, user.id, access.slide.id))) return;
  if (accession === undefined) {
    const [kase] = await db.select({ accession: cases.accessionNumber }).from(cases).where(eq(cases.id, access.slide.caseId)).limit(1);
    accession = kase?.accession ?? "";
  }
  await recordAudit(db, {
    labId: access.slide.labId,
    actorUserId: user.id,
    action: "slide.view",
    targetType: "slide",
    targetId: access.slide.id,
    detail: { via: access.via, viewerLabId: lab?.labId, accession },
  });
}

/** One audit record per viewing session: a page that refreshes itself while a slide tiles is one view. */
const VIEW_SESSION_MINUTES = 10;
async function viewedRecently(db: Db, userId: string, slideId: string): Promise<boolean> {
  const { auditEvents } = schema;
  const since = new Date(Date.now() - VIEW_SESSION_MINUTES * 60_000);
  const [row] = await db
    .select({ id: auditEvents.id })
    .from(auditEvents)
    .where(and(eq(auditEvents.actorUserId, userId), eq(auditEvents.action, "slide.view"), eq(auditEvents.targetId, slideId), gt(auditEvents.createdAt, since)))
    .limit(1);
  return Boolean(row);
}
