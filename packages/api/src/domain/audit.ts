import { and, desc, eq, inArray } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";

const { auditEvents, users, labs } = schema;

/** An audit record; labId is the lab whose data was touched, so its admin can list it. */
export async function recordAudit(db: Db, event: { labId?: string | null; actorUserId: string; action: string; targetType: string; targetId: string; detail?: Record<string, unknown> }) {
  await db.insert(auditEvents).values({ ...event, labId: event.labId ?? null, detail: event.detail ?? {} });
}

/** Who from outside the lab viewed its slides, when and why: for the lab's administrators. */
export async function listRemoteViews(db: Db, labId: string, limit = 200) {
  const rows = await db
    .select({ at: auditEvents.createdAt, action: auditEvents.action, slideId: auditEvents.targetId, detail: auditEvents.detail, viewer: users.name, viewerEmail: users.email })
    .from(auditEvents)
    .leftJoin(users, eq(users.id, auditEvents.actorUserId))
    .where(and(eq(auditEvents.labId, labId), inArray(auditEvents.action, ["prior.open", "slide.view"])))
    .orderBy(desc(auditEvents.createdAt))
    .limit(limit);
  const labIds = [...new Set(rows.map((r) => (r.detail as { viewerLabId?: string }).viewerLabId).filter((x): x is string => Boolean(x)))];
  const names = labIds.length ? new Map((await db.select({ id: labs.id, name: labs.name }).from(labs).where(inArray(labs.id, labIds))).map((l) => [l.id, l.name])) : new Map();
  return rows.map((r) => {
    const detail = r.detail as { reason?: string; via?: string; viewerLabId?: string; accession?: string };
    return {
      at: r.at,
      action: r.action,
      slideId: r.slideId,
      viewer: r.viewer ?? "deleted user",
      viewerEmail: r.viewerEmail ?? "",
      viewerLab: (detail.viewerLabId && names.get(detail.viewerLabId)) ?? "",
      reason: detail.reason ?? (detail.via === "grant" ? "shared with them (consult or board)" : ""),
      accession: detail.accession ?? "",
    };
  });
}
