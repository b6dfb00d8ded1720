import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { type Db, schema } from "@pathx/db";
import { type SlideAccess, activeGrantSourceIds, resolveSlideAccess } from "../access/slide-access";
import { ApiError, notFound } from "../errors";
import { recordAudit } from "./audit";
import type { SessionUser } from "./users";

const { annotations, users, labs, consultSlides, boardAgendaItems } = schema;

export const ANNOTATION_KINDS = ["point", "line", "rectangle", "polygon", "text"] as const;
export type AnnotationKind = (typeof ANNOTATION_KINDS)[number];

/** More vertices than a hand draws; beyond it a row would grow large for no diagnostic gain. */
export const MAX_VERTICES = 5000;
/** Vertices may lie this fraction of the slide's size beyond its edge: a stroke that ends just past it still belongs to the slide. */
const EDGE_MARGIN = 0.02;

export const annotationCreateInput = z.object({
  slideId: z.string().uuid(),
  kind: z.enum(ANNOTATION_KINDS),
  // Checked by the domain against the kind and the slide, so the message can say what is wrong.
  geometry: z.unknown(),
  label: z.string().max(500).default(""),
  consultRequestId: z.string().uuid().optional(),
  boardSessionId: z.string().uuid().optional(),
});
export type AnnotationCreateInput = z.input<typeof annotationCreateInput>;

type Position = [number, number];
export type AnnotationGeometry =
  | { type: "Point"; coordinates: Position }
  | { type: "LineString"; coordinates: Position[] }
  | { type: "Polygon"; coordinates: Position[][] };

const coordinate = z.number({ error: "Coordinates must be finite numbers." });
const position = z.tuple([coordinate, coordinate], { error: "A position is [x, y]: two numbers." });
const samePosition = (a: Position, b: Position) => a[0] === b[0] && a[1] === b[1];

const pointGeometry = z.object({ type: z.literal("Point"), coordinates: position });
const lineGeometry = z.object({
  type: z.literal("LineString"),
  coordinates: z.array(position).min(2, "A line needs at least 2 points.").max(MAX_VERTICES, `A line may have at most ${MAX_VERTICES} points.`),
});
const ring = z
  .array(position)
  .min(4, "A polygon ring needs at least 4 positions: 3 corners and the first one again to close it.")
  .max(MAX_VERTICES + 1, `A polygon may have at most ${MAX_VERTICES} corners.`)
  .refine((r) => samePosition(r[0]!, r.at(-1)!), "A polygon ring must be closed: its last position repeats the first.");
const polygonGeometry = z.object({
  type: z.literal("Polygon"),
  coordinates: z.array(ring).length(1, "A polygon has exactly one ring (holes are not supported)."),
});

/** Four corners on two x and two y values, each side changing one of them: an axis-aligned rectangle. */
function isAxisAlignedRectangle(r: Position[]): boolean {
  if (r.length !== 5) return false;
  const corners = r.slice(0, 4);
  if (new Set(corners.map((p) => p[0])).size !== 2 || new Set(corners.map((p) => p[1])).size !== 2) return false;
  return corners.every((p, i) => {
    const next = r[i + 1]!;
    return (p[0] === next[0]) !== (p[1] === next[1]);
  });
}

const rectangleGeometry = polygonGeometry.refine(
  (g) => isAxisAlignedRectangle(g.coordinates[0]!),
  "A rectangle is a closed ring of 5 positions with axis-aligned sides: [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]].",
);

const geometryOf: Record<AnnotationKind, z.ZodType<AnnotationGeometry>> = {
  point: pointGeometry,
  text: pointGeometry,
  line: lineGeometry,
  rectangle: rectangleGeometry,
  polygon: polygonGeometry,
};
const geometryTypeOf: Record<AnnotationKind, AnnotationGeometry["type"]> = {
  point: "Point",
  text: "Point",
  line: "LineString",
  rectangle: "Polygon",
  polygon: "Polygon",
};

function vertices(geometry: AnnotationGeometry): Position[] {
  if (geometry.type === "Point") return [geometry.coordinates];
  if (geometry.type === "LineString") return geometry.coordinates;
  return geometry.coordinates[0]!;
}

/** Twice the signed area of a closed ring, in square pixels (shoelace). */
function shoelace(ring: Position[]): number {
  let sum = 0;
  for (let i = 0; i + 1 < ring.length; i++) sum += ring[i]![0] * ring[i + 1]![1] - ring[i + 1]![0] * ring[i]![1];
  return sum;
}

/**
 * Checks geometry against its kind and the slide's size; a message that says what to fix. The
 * label is the text of a text annotation.
 */
export function validateGeometry(kind: AnnotationKind, geometry: unknown, label: string, slide: { width: number; height: number }): AnnotationGeometry {
  const expected = geometryTypeOf[kind];
  const type = (geometry as { type?: unknown } | null)?.type;
  if (type !== expected)
    throw new ApiError("BAD_REQUEST", `A ${kind} annotation needs a GeoJSON ${expected} geometry${typeof type === "string" ? `, not ${type}` : ""}.`);
  const parsed = geometryOf[kind].safeParse(geometry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const at = issue.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
    throw new ApiError("BAD_REQUEST", at ? `${issue.message} (at geometry${at})` : issue.message);
  }
  const value = parsed.data;
  if (kind === "text" && !label.trim()) throw new ApiError("BAD_REQUEST", "A text annotation needs its text: give a label.");
  if (value.type === "Polygon" && shoelace(value.coordinates[0]!) === 0)
    throw new ApiError("BAD_REQUEST", `The ${kind} encloses no area: draw at least 3 corners that are not on one line.`);
  const mx = slide.width * EDGE_MARGIN;
  const my = slide.height * EDGE_MARGIN;
  const outside = vertices(value).find(([x, y]) => x < -mx || y < -my || x > slide.width + mx || y > slide.height + my);
  if (outside) {
    throw new ApiError("BAD_REQUEST", `The position [${outside[0]}, ${outside[1]}] is outside the slide (${slide.width} × ${slide.height} pixels at level 0).`);
  }
  return value;
}

/**
 * Length of a line and area of a rectangle or polygon in µm, from level-0 pixels and the
 * slide's scale per axis (scanners can be anisotropic). Null without a scale.
 */
export function measureGeometry(geometry: AnnotationGeometry, mppX: number | null, mppY: number | null): { lengthUm: number | null; areaUm2: number | null } {
  const sx = mppX ?? mppY;
  const sy = mppY ?? mppX;
  if (!sx || !sy) return { lengthUm: null, areaUm2: null };
  if (geometry.type === "LineString") {
    let length = 0;
    const c = geometry.coordinates;
    for (let i = 0; i + 1 < c.length; i++) length += Math.hypot((c[i + 1]![0] - c[i]![0]) * sx, (c[i + 1]![1] - c[i]![1]) * sy);
    return { lengthUm: length, areaUm2: null };
  }
  if (geometry.type === "Polygon") return { lengthUm: null, areaUm2: (Math.abs(shoelace(geometry.coordinates[0]!)) / 2) * sx * sy };
  return { lengthUm: null, areaUm2: null };
}

interface VisibilityFacts {
  authorLabId: string;
  consultRequestId: string | null;
  boardSessionId: string | null;
}

/** Who is looking: their labs, the slide's lab, and the consults / board sessions they see the slide through. */
export interface AnnotationViewer {
  labIds: readonly string[];
  slideLabId: string;
  grantSourceIds: ReadonlySet<string>;
}

/**
 * Whether a viewer who may see the slide also sees this annotation: their own lab's always; one
 * shared with a consult or board session when they take part in it, i.e. hold a grant of the
 * slide from it, or belong to the slide's lab (whose consult or case it is).
 */
export function isAnnotationVisible(annotation: VisibilityFacts, viewer: AnnotationViewer): boolean {
  if (viewer.labIds.includes(annotation.authorLabId)) return true;
  const sources = [annotation.consultRequestId, annotation.boardSessionId].filter((s): s is string => Boolean(s));
  if (!sources.length) return false;
  return viewer.labIds.includes(viewer.slideLabId) || sources.some((s) => viewer.grantSourceIds.has(s));
}

async function viewerOf(db: Db, user: SessionUser, access: SlideAccess): Promise<AnnotationViewer> {
  return {
    labIds: user.memberships.map((m) => m.labId),
    slideLabId: access.slide.labId,
    grantSourceIds: access.via === "grant" ? await activeGrantSourceIds(db, user.id, access.slide.id) : new Set(),
  };
}

async function requireSlide(db: Db, user: SessionUser, slideId: string): Promise<SlideAccess> {
  const access = await resolveSlideAccess(db, user, slideId);
  if (!access) throw notFound("Slide");
  return access;
}

export interface AnnotationView {
  id: string;
  kind: AnnotationKind;
  geometry: AnnotationGeometry;
  label: string;
  lengthUm: number | null;
  areaUm2: number | null;
  author: { name: string; lab: string };
  /** The viewer wrote it, so may delete it. */
  mine: boolean;
  consultRequestId: string | null;
  boardSessionId: string | null;
  createdAt: string;
}

async function visibleAnnotations(db: Db, user: SessionUser, access: SlideAccess): Promise<AnnotationView[]> {
  const viewer = await viewerOf(db, user, access);
  const rows = await db
    .select({ a: annotations, authorName: users.name, labName: labs.name })
    .from(annotations)
    .innerJoin(users, eq(users.id, annotations.authorUserId))
    .innerJoin(labs, eq(labs.id, annotations.authorLabId))
    .where(eq(annotations.slideId, access.slide.id))
    .orderBy(asc(annotations.createdAt), asc(annotations.id));
  return rows.filter((r) => isAnnotationVisible(r.a, viewer)).map((r) => viewOf(r.a, { name: r.authorName, lab: r.labName }, user.id));
}

function viewOf(a: typeof annotations.$inferSelect, author: AnnotationView["author"], viewerId: string): AnnotationView {
  return {
    id: a.id,
    kind: a.kind as AnnotationKind,
    geometry: (a.feature as { geometry: AnnotationGeometry }).geometry,
    label: a.label,
    lengthUm: a.lengthUm,
    areaUm2: a.areaUm2,
    author,
    mine: a.authorUserId === viewerId,
    consultRequestId: a.consultRequestId,
    boardSessionId: a.boardSessionId,
    createdAt: a.createdAt.toISOString(),
  };
}

export async function listAnnotations(db: Db, user: SessionUser, slideId: string): Promise<AnnotationView[]> {
  return visibleAnnotations(db, user, await requireSlide(db, user, slideId));
}

type ShareSource = { kind: "consult" | "board"; id: string };

/**
 * Whether the user may attach an annotation on this slide to a consult or board session: a
 * grantee through it, or the slide's lab when the slide is on that consult or session's agenda.
 */
async function mayShareWith(db: Db, access: SlideAccess, viewer: AnnotationViewer, source: ShareSource): Promise<boolean> {
  if (viewer.grantSourceIds.has(source.id)) return true;
  if (access.via !== "own-lab") return false;
  const [row] =
    source.kind === "consult"
      ? await db
          .select({ id: consultSlides.requestId })
          .from(consultSlides)
          .where(and(eq(consultSlides.requestId, source.id), eq(consultSlides.slideId, access.slide.id)))
          .limit(1)
      : await db
          .select({ id: boardAgendaItems.id })
          .from(boardAgendaItems)
          .where(and(eq(boardAgendaItems.sessionId, source.id), eq(boardAgendaItems.caseId, access.slide.caseId)))
          .limit(1);
  return Boolean(row);
}

/**
 * Stores an annotation on a slide the user may see, measured here from its geometry (client
 * numbers are never taken). `actingLabId` is the lab the request acts for; on the user's own
 * lab's slide the author's lab is that lab.
 */
export async function createAnnotation(db: Db, user: SessionUser, actingLabId: string | undefined, input: AnnotationCreateInput): Promise<AnnotationView> {
  const { slideId, kind, label = "", consultRequestId, boardSessionId } = input;
  const access = await requireSlide(db, user, slideId);
  const { slide } = access;
  if (!slide.width || !slide.height) throw new ApiError("BAD_REQUEST", "This slide has no pixels at the hub yet: annotate it once it is shown in the viewer.");
  const geometry = validateGeometry(kind, input.geometry, label, { width: slide.width, height: slide.height });
  const authorLab = user.memberships.find((m) => m.labId === (access.via === "own-lab" ? slide.labId : actingLabId)) ?? user.memberships[0];
  if (!authorLab) throw new ApiError("FORBIDDEN", "Your account belongs to no lab yet; ask your lab administrator.");
  const sources: ShareSource[] = [
    ...(consultRequestId ? [{ kind: "consult" as const, id: consultRequestId }] : []),
    ...(boardSessionId ? [{ kind: "board" as const, id: boardSessionId }] : []),
  ];
  const viewer = sources.length ? await viewerOf(db, user, access) : undefined;
  for (const source of sources) {
    if (!(await mayShareWith(db, access, viewer!, source))) {
      throw new ApiError(
        "BAD_REQUEST",
        source.kind === "consult" ? "This slide is not part of that consult." : "This slide is not on that board session's agenda.",
      );
    }
  }
  const { lengthUm, areaUm2 } = measureGeometry(geometry, slide.mppX, slide.mppY);
  const [row] = await db
    .insert(annotations)
    .values({
      slideId,
      authorUserId: user.id,
      authorLabId: authorLab.labId,
      kind,
      // The scale per axis travels with the feature: the single mpp column cannot hold an anisotropic one.
      feature: { type: "Feature", geometry, properties: { mppX: slide.mppX, mppY: slide.mppY ?? slide.mppX } },
      label: label.trim(),
      lengthUm,
      areaUm2,
      mpp: slide.mppX,
      consultRequestId: consultRequestId ?? null,
      boardSessionId: boardSessionId ?? null,
    })
    .returning();
  if (access.via !== "own-lab") {
    await recordAudit(db, {
      labId: slide.labId,
      actorUserId: user.id,
      action: "annotation.create",
      targetType: "slide",
      targetId: slideId,
      detail: { annotationId: row!.id, kind, viewerLabId: authorLab.labId },
    });
  }
  return viewOf(row!, { name: user.name, lab: authorLab.labName }, user.id);
}

/** Only its author deletes an annotation; one the user cannot see is not found. */
export async function deleteAnnotation(db: Db, user: SessionUser, annotationId: string): Promise<void> {
  const [row] = /^[0-9a-f-]{36}$/.test(annotationId) ? await db.select().from(annotations).where(eq(annotations.id, annotationId)).limit(1) : [];
  const access = row && (await resolveSlideAccess(db, user, row.slideId));
  if (!row || !access || !isAnnotationVisible(row, await viewerOf(db, user, access))) throw notFound("Annotation");
  if (row.authorUserId !== user.id) throw new ApiError("FORBIDDEN", "Only the author can delete an annotation.");
  await db.delete(annotations).where(eq(annotations.id, row.id));
}

/** The annotations the user sees on a slide as one GeoJSON FeatureCollection, with the slide's scale. */
export async function exportAnnotationsGeoJson(db: Db, user: SessionUser, slideId: string) {
  const access = await requireSlide(db, user, slideId);
  const list = await visibleAnnotations(db, user, access);
  await recordAudit(db, {
    labId: access.slide.labId,
    actorUserId: user.id,
    action: "annotation.export.geojson",
    targetType: "slide",
    targetId: access.slide.id,
    detail: { via: access.via, annotations: list.length },
  });
  return {
    type: "FeatureCollection" as const,
    pathx: {
      slideId: access.slide.id,
      mppX: access.slide.mppX,
      mppY: access.slide.mppY ?? access.slide.mppX,
      coordinateSystem: "level-0 pixels, origin top-left, y down",
    },
    features: list.map((a) => ({
      type: "Feature" as const,
      id: a.id,
      geometry: a.geometry,
      properties: { kind: a.kind, label: a.label, lengthUm: a.lengthUm, areaUm2: a.areaUm2, author: a.author.name, createdAt: a.createdAt },
    })),
  };
}
