import { and, desc, eq, gt, inArray, isNull, or } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import type { SessionUser } from "../domain/users";

const { slides, cases, accessGrants, auditEvents } = schema;

type SlideRow = typeof slides.$inferSelect;

/** How long a recorded reason to open another lab's prior study lets the user view it. */
export const PRIOR_VIEW_HOURS = 12;

export interface SlideAccess {
  slide: SlideRow;
  /** own-lab: a member of the slide's lab; grant: a consult or board session; prior: a prior study opened with a reason. */
  via: "own-lab" | "grant" | "prior";
  /** Whether the label image may be shown (the owning lab's choice for grants). */
  shareLabel: boolean;
  /** For a grant: the consult or board session it comes from (annotations drawn there are shared with it). */
  grant?: { reason: "consult" | "board"; sourceId: string };
  /** When this access runs out by itself (a grant's expiry, a prior's 12 hours); none for the own lab or an open grant. */
  until?: Date;
}

/**
 * The one answer to "may this user see this slide, and why". Another lab's slide is visible
 * only through an active grant (not revoked, not expired) or as a prior study of a patient the
 * user's lab has an open case for, after the user recorded a reason (audited).
 */
export async function resolveSlideAccess(db: Db, user: SessionUser, slideId: string): Promise<SlideAccess | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(slideId)) return undefined;
  const [slide] = await db.select().from(slides).where(eq(slides.id, slideId)).limit(1);
  if (!slide) return undefined;
  const labIds = user.memberships.map((m) => m.labId);
  if (labIds.includes(slide.labId)) return { slide, via: "own-lab", shareLabel: true };
  const grants = await db
    .select({ shareLabel: accessGrants.shareLabel, reason: accessGrants.reason, sourceId: accessGrants.sourceId, expiresAt: accessGrants.expiresAt })
    .from(accessGrants)
    .where(activeGrant(user.id, slideId))
    .orderBy(desc(accessGrants.shareLabel), desc(accessGrants.createdAt))
    .limit(20);
  const grant = grants[0];
  if (grant) {
    // Access lasts as long as the longest-running of the user's grants of the slide.
    const until = grants.some((g) => !g.expiresAt) ? undefined : new Date(Math.max(...grants.map((g) => g.expiresAt!.getTime())));
    return { slide, via: "grant", shareLabel: grant.shareLabel, grant: { reason: grant.reason, sourceId: grant.sourceId }, until };
  }
  const openedAt = labIds.length ? await priorOpenedAt(db, user.id, labIds, slide) : undefined;
  if (openedAt) return { slide, via: "prior", shareLabel: false, until: new Date(openedAt.getTime() + PRIOR_VIEW_HOURS * 3600_000) };
  return undefined;
}

/** A grant of the slide to the user that counts now: not revoked, not expired. */
function activeGrant(userId: string, slideId: string) {
  return and(
    eq(accessGrants.slideId, slideId),
    eq(accessGrants.granteeUserId, userId),
    isNull(accessGrants.revokedAt),
    or(isNull(accessGrants.expiresAt), gt(accessGrants.expiresAt, new Date())),
  );
}

/** The consults and board sessions through which the user holds an active grant of the slide. */
export async function activeGrantSourceIds(db: Db, userId: string, slideId: string): Promise<Set<string>> {
  const rows = await db.select({ sourceId: accessGrants.sourceId }).from(accessGrants).where(activeGrant(userId, slideId));
  return new Set(rows.map((r) => r.sourceId));
}

/** When the user last gave a reason for the slide, while their lab has an open case for its patient. */
async function priorOpenedAt(db: Db, userId: string, labIds: string[], slide: SlideRow): Promise<Date | undefined> {
  if (!(await hasOpenCaseForPatientOf(db, labIds, slide.caseId))) return undefined;
  const since = new Date(Date.now() - PRIOR_VIEW_HOURS * 3600_000);
  const [reason] = await db
    .select({ at: auditEvents.createdAt })
    .from(auditEvents)
    .where(
      and(
        eq(auditEvents.action, "prior.open"),
        eq(auditEvents.targetType, "slide"),
        eq(auditEvents.targetId, slide.id),
        eq(auditEvents.actorUserId, userId),
        gt(auditEvents.createdAt, since),
      ),
    )
    .orderBy(desc(auditEvents.createdAt))
    .limit(1);
  return reason?.at;
}

/** Whether one of these labs has an open case for the patient of the given case (by pseudonym). */
export async function hasOpenCaseForPatientOf(db: Db, labIds: string[], caseId: string): Promise<boolean> {
  const [kase] = await db.select({ pseudonym: cases.patientPseudonym }).from(cases).where(eq(cases.id, caseId)).limit(1);
  if (!kase || kase.pseudonym.startsWith("unlinked-")) return false;
  const [open] = await db
    .select({ id: cases.id })
    .from(cases)
    .where(and(inArray(cases.labId, labIds), eq(cases.patientPseudonym, kase.pseudonym), eq(cases.status, "open")))
    .limit(1);
  return Boolean(open);
}

export interface TileAccess {
  /** Null until the slide is tiled: then only its thumbnail (index-only slides have one) is served. */
  tilesPrefix: string | null;
  thumbnailKey: string | null;
}

/** What of a slide's pictures the user may fetch: its pyramid once tiled, its thumbnail as soon as there is one. */
export async function tileAccessFor(db: Db, user: SessionUser, slideId: string): Promise<TileAccess | undefined> {
  const slide = (await resolveSlideAccess(db, user, slideId))?.slide;
  if (!slide || (!(slide.status === "ready" && slide.tilesPrefix) && !slide.thumbnailKey)) return undefined;
  return { tilesPrefix: slide.status === "ready" ? slide.tilesPrefix : null, thumbnailKey: slide.thumbnailKey };
}
