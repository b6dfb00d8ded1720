import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import type { ObjectStore } from "@pathx/storage";
import { appRouter } from "../routers/index";
import { createCallerFactory, createContext } from "../trpc";
import { exportAnnotationsGeoJson, isAnnotationVisible, measureGeometry } from "./annotations";
import { loadSessionUser } from "./users";

let handle: DbHandle;
const ids: Record<string, string> = {};

// Annotations touch no objects; a store that refuses proves it.
const store = new Proxy({}, { get: () => () => Promise.reject(new Error("no store in these tests")) }) as ObjectStore;

beforeAll(async () => {
  handle = await createTestDb();
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
    .values(["ana", "ari", "bo", "cy", "dee"].map((n) => ({ email: `${n}@example.org`, name: n.toUpperCase() })))
    .returning();
  const [ana, ari, bo, cy, dee] = people.map((p) => p.id);
  await db.insert(schema.memberships).values([
    { userId: ana!, labId: north!.id, role: "pathologist" },
    { userId: ari!, labId: north!.id, role: "pathologist" },
    { userId: bo!, labId: south!.id, role: "pathologist" },
    { userId: cy!, labId: south!.id, role: "pathologist" },
    { userId: dee!, labId: east!.id, role: "pathologist" },
  ]);
  const [kase] = await db.insert(schema.cases).values({ labId: north!.id, accessionNumber: "N26-0007", patientPseudonym: "p7" }).returning();
  const slide = { labId: north!.id, caseId: kase!.id, fileName: "s.svs", sizeBytes: 1, status: "ready" as const, width: 1000, height: 800 };
  const [scaled, unscaled] = await db
    .insert(schema.slides)
    .values([
      // Anisotropic on purpose: x and y scale must not be mixed up.
      { ...slide, sha256: "a", mppX: 0.5, mppY: 0.25 },
      { ...slide, sha256: "b" },
    ])
    .returning();
  const [consult] = await db
    .insert(schema.consultRequests)
    .values({ requesterLabId: north!.id, requesterUserId: ana!, caseId: kase!.id, question: "Melanoma?", targetLabId: south!.id })
    .returning();
  await db.insert(schema.consultSlides).values({ requestId: consult!.id, slideId: scaled!.id });
  const [board] = await db.insert(schema.boards).values({ name: "Skin board", chairUserId: dee! }).returning();
  const [session] = await db.insert(schema.boardSessions).values({ boardId: board!.id, scheduledAt: new Date() }).returning();
  await db.insert(schema.boardAgendaItems).values({ sessionId: session!.id, caseId: kase!.id, position: 1 });
  await db.insert(schema.accessGrants).values([
    { slideId: scaled!.id, granteeUserId: bo!, reason: "consult", sourceId: consult!.id },
    { slideId: scaled!.id, granteeUserId: dee!, reason: "board", sourceId: session!.id },
  ]);
  Object.assign(ids, {
    north: north!.id,
    south: south!.id,
    ana,
    ari,
    bo,
    cy,
    dee,
    slide: scaled!.id,
    unscaled: unscaled!.id,
    consult: consult!.id,
    session: session!.id,
  });
});
afterAll(async () => {
  await handle.close();
});

const as = async (userId: string) => createCallerFactory(appRouter)(await createContext({ db: handle.db, store }, { headers: new Headers(), userId }));

const line = (...coordinates: [number, number][]) => ({ type: "LineString", coordinates });
const polygon = (...ring: [number, number][]) => ({ type: "Polygon", coordinates: [ring] });
const rect = (x0: number, y0: number, x1: number, y1: number) => polygon([x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]);

describe("measurements", () => {
  it("measures a line per axis and sums its segments", () => {
    expect(measureGeometry(line([0, 0], [30, 40]) as never, 1, 1)).toEqual({ lengthUm: 50, areaUm2: null });
    // 30 px × 0.5 = 15 µm across, 40 px × 0.25 = 10 µm down.
    expect(measureGeometry(line([0, 0], [30, 40]) as never, 0.5, 0.25).lengthUm).toBeCloseTo(Math.hypot(15, 10), 10);
    expect(measureGeometry(line([0, 0], [100, 0], [100, 100]) as never, 0.5, 0.25).lengthUm).toBeCloseTo(50 + 25, 10);
  });

  it("measures areas with the shoelace formula whichever way the ring turns", () => {
    expect(measureGeometry(rect(10, 10, 110, 60) as never, 0.5, 0.25)).toEqual({ lengthUm: null, areaUm2: 100 * 50 * 0.125 });
    const clockwise = polygon([0, 0], [100, 0], [0, 100], [0, 0]);
    const counter = polygon([0, 0], [0, 100], [100, 0], [0, 0]);
    expect(measureGeometry(clockwise as never, 2, 2).areaUm2).toBe(5000 * 4);
    expect(measureGeometry(counter as never, 2, 2).areaUm2).toBe(5000 * 4);
    // A concave L: 2×2 square minus a 1×1 corner.
    expect(measureGeometry(polygon([0, 0], [2, 0], [2, 1], [1, 1], [1, 2], [0, 2], [0, 0]) as never, 1, 1).areaUm2).toBe(3);
  });

  it("has no numbers without a scale, and takes one axis for both when only one is known", () => {
    expect(measureGeometry(line([0, 0], [3, 4]) as never, null, null)).toEqual({ lengthUm: null, areaUm2: null });
    expect(measureGeometry(line([0, 0], [3, 4]) as never, 2, null).lengthUm).toBe(10);
    expect(measureGeometry({ type: "Point", coordinates: [1, 1] }, 1, 1)).toEqual({ lengthUm: null, areaUm2: null });
  });
});

describe("creating annotations", () => {
  it("stores GeoJSON in slide pixels with numbers computed on the server, never the client's", async () => {
    const ana = await as(ids.ana!);
    const input = { slideId: ids.slide!, kind: "line" as const, geometry: line([0, 0], [30, 40]), label: " margin ", lengthUm: 1 };
    const created = await ana.annotations.create(input);
    expect(created).toMatchObject({ kind: "line", label: "margin", areaUm2: null, mine: true, author: { name: "ANA", lab: "North Lab" } });
    expect(created.lengthUm).toBeCloseTo(Math.hypot(15, 10), 10);
    const [row] = await handle.db.select().from(schema.annotations).where(eq(schema.annotations.id, created.id));
    expect(row).toMatchObject({
      authorLabId: ids.north,
      mpp: 0.5,
      feature: { type: "Feature", geometry: line([0, 0], [30, 40]), properties: { mppX: 0.5, mppY: 0.25 } },
    });
    const area = await ana.annotations.create({ slideId: ids.slide!, kind: "rectangle", geometry: rect(0, 0, 200, 100) });
    expect(area.areaUm2).toBe(200 * 100 * 0.125);
    const text = await ana.annotations.create({ slideId: ids.slide!, kind: "text", geometry: { type: "Point", coordinates: [500, 400] }, label: "mitosis" });
    expect(text).toMatchObject({ lengthUm: null, areaUm2: null, label: "mitosis" });
    expect((await ana.annotations.create({ slideId: ids.unscaled!, kind: "line", geometry: line([0, 0], [3, 4]) })).lengthUm).toBeNull();
  });

  it("says what is wrong with bad geometry", async () => {
    const ana = await as(ids.ana!);
    const bad = (kind: "point" | "line" | "rectangle" | "polygon" | "text", geometry: unknown, label = "") =>
      ana.annotations.create({ slideId: ids.slide!, kind, geometry, label });
    const cases: [Promise<unknown>, RegExp][] = [
      [bad("line", { type: "Point", coordinates: [1, 1] }), /^A line annotation needs a GeoJSON LineString geometry, not Point\.$/],
      [bad("polygon", "a square"), /needs a GeoJSON Polygon geometry\.$/],
      [bad("line", line([1, 1])), /A line needs at least 2 points/],
      [bad("line", line([1, 1], [Number.POSITIVE_INFINITY, 2])), /Coordinates must be finite numbers\. \(at geometry\.coordinates\[1\]\[0\]\)/],
      [bad("point", { type: "Point", coordinates: [1, 2, 3] }), /A position is \[x, y\]/],
      [bad("polygon", polygon([0, 0], [10, 0], [10, 10], [0, 10])), /must be closed/],
      [bad("polygon", polygon([0, 0], [10, 0], [0, 0])), /at least 4 positions/],
      [bad("polygon", polygon([0, 0], [5, 5], [10, 10], [0, 0])), /encloses no area/],
      [bad("polygon", { type: "Polygon", coordinates: [rect(0, 0, 9, 9).coordinates[0], rect(1, 1, 2, 2).coordinates[0]] }), /holes are not supported/],
      [bad("rectangle", polygon([0, 0], [10, 1], [10, 10], [0, 10], [0, 0])), /axis-aligned sides/],
      [bad("rectangle", polygon([0, 0], [10, 0], [10, 10], [5, 10], [0, 10], [0, 0])), /axis-aligned sides/],
      [bad("text", { type: "Point", coordinates: [1, 1] }, "   "), /needs its text/],
      [bad("line", line([0, 0], [1100, 10])), /\[1100, 10\] is outside the slide \(1000 × 800 pixels/],
      [bad("line", line(...Array.from({ length: 5001 }, (_, i): [number, number] => [i % 1000, 1]))), /at most 5000 points/],
    ];
    for (const [attempt, message] of cases) await expect(attempt).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringMatching(message) });
    // A vertex just past the edge (within the margin) is still on the slide.
    await expect(bad("point", { type: "Point", coordinates: [1010, -8] })).resolves.toMatchObject({ kind: "point" });
  });

  it("shares with a consult or board session only the slide is part of", async () => {
    const ana = await as(ids.ana!);
    const bo = await as(ids.bo!);
    const unrelated = "00000000-0000-4000-8000-000000000000";
    await expect(
      ana.annotations.create({ slideId: ids.slide!, kind: "point", geometry: { type: "Point", coordinates: [1, 1] }, consultRequestId: unrelated }),
    ).rejects.toThrow(/not part of that consult/);
    await expect(
      ana.annotations.create({ slideId: ids.unscaled!, kind: "point", geometry: { type: "Point", coordinates: [1, 1] }, consultRequestId: ids.consult }),
    ).rejects.toThrow(/not part of that consult/);
    await expect(
      bo.annotations.create({ slideId: ids.slide!, kind: "point", geometry: { type: "Point", coordinates: [1, 1] }, boardSessionId: ids.session }),
    ).rejects.toThrow(/not on that board session's agenda/);
    await expect(
      ana.annotations.create({ slideId: ids.slide!, kind: "point", geometry: { type: "Point", coordinates: [1, 1] }, boardSessionId: ids.session }),
    ).resolves.toMatchObject({ boardSessionId: ids.session });
  });
});

describe("who sees which annotation", () => {
  it("decides from the viewer's labs and the consults or sessions they take part in", () => {
    const viewer = { labIds: ["south"], slideLabId: "north", grantSourceIds: new Set(["consult-1"]) };
    const facts = (authorLabId: string, consultRequestId: string | null = null, boardSessionId: string | null = null) => ({
      authorLabId,
      consultRequestId,
      boardSessionId,
    });
    expect(isAnnotationVisible(facts("south"), viewer)).toBe(true);
    expect(isAnnotationVisible(facts("north"), viewer)).toBe(false);
    expect(isAnnotationVisible(facts("north", "consult-1"), viewer)).toBe(true);
    expect(isAnnotationVisible(facts("north", "consult-2"), viewer)).toBe(false);
    expect(isAnnotationVisible(facts("north", null, "consult-1"), viewer)).toBe(true);
    expect(isAnnotationVisible(facts("east", "consult-2"), { ...viewer, labIds: ["north"] })).toBe(true);
  });

  it("own lab sees its own; a grantee sees only what is shared through its grant; others get NOT_FOUND", async () => {
    const [ana, ari, bo, cy, dee] = await Promise.all(["ana", "ari", "bo", "cy", "dee"].map((n) => as(ids[n]!)));
    const point = (x: number) => ({ type: "Point", coordinates: [x, 10] });
    const privateNote = await ana!.annotations.create({ slideId: ids.slide!, kind: "point", geometry: point(1), label: "north only" });
    const forConsult = await ana!.annotations.create({
      slideId: ids.slide!,
      kind: "point",
      geometry: point(2),
      label: "for consult",
      consultRequestId: ids.consult,
    });
    const consultantNote = await bo!.annotations.create({
      slideId: ids.slide!,
      kind: "point",
      geometry: point(3),
      label: "consultant shared",
      consultRequestId: ids.consult,
    });
    const consultantPrivate = await bo!.annotations.create({ slideId: ids.slide!, kind: "point", geometry: point(4), label: "consultant private" });
    expect(consultantPrivate.author.lab).toBe("South Lab");

    const labels = async (caller: typeof ana) =>
      (await caller!.annotations.list({ slideId: ids.slide! })).map((a) => a.label).filter((l) => /north only|consult/.test(l));
    expect(await labels(ana)).toEqual(["north only", "for consult", "consultant shared"]);
    expect(await labels(ari)).toEqual(["north only", "for consult", "consultant shared"]);
    expect(await labels(bo)).toEqual(["for consult", "consultant shared", "consultant private"]);
    // Through the board session's grant, not the consult's.
    expect(await labels(dee)).toEqual([]);
    expect((await dee!.annotations.list({ slideId: ids.slide! })).map((a) => a.boardSessionId)).toEqual([ids.session]);
    for (const attempt of [
      cy!.annotations.list({ slideId: ids.slide! }),
      cy!.annotations.remove({ id: forConsult.id }),
      bo!.annotations.remove({ id: privateNote.id }),
    ]) {
      await expect(attempt).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    await expect(cy!.annotations.create({ slideId: ids.slide!, kind: "point", geometry: point(5) })).rejects.toMatchObject({ code: "NOT_FOUND" });
    const cyUser = (await loadSessionUser(handle.db, ids.cy!))!;
    await expect(exportAnnotationsGeoJson(handle.db, cyUser, ids.slide!)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(consultantNote.mine).toBe(true);
  });

  it("stops showing anything once the grant is revoked", async () => {
    await handle.db.update(schema.accessGrants).set({ revokedAt: new Date() }).where(eq(schema.accessGrants.granteeUserId, ids.dee!));
    await expect((await as(ids.dee!)).annotations.list({ slideId: ids.slide! })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await handle.db.update(schema.accessGrants).set({ revokedAt: null }).where(eq(schema.accessGrants.granteeUserId, ids.dee!));
  });
});

describe("deleting", () => {
  it("lets only the author delete", async () => {
    const [ana, ari, bo] = await Promise.all(["ana", "ari", "bo"].map((n) => as(ids[n]!)));
    const mine = await ana!.annotations.create({
      slideId: ids.slide!,
      kind: "point",
      geometry: { type: "Point", coordinates: [7, 7] },
      label: "to delete",
      consultRequestId: ids.consult,
    });
    await expect(ari!.annotations.remove({ id: mine.id })).rejects.toMatchObject({ code: "FORBIDDEN", message: "Only the author can delete an annotation." });
    await expect(bo!.annotations.remove({ id: mine.id })).rejects.toMatchObject({ code: "FORBIDDEN" });
    await expect(ana!.annotations.remove({ id: "not-an-id" })).rejects.toMatchObject({ code: "NOT_FOUND" });
    await ana!.annotations.remove({ id: mine.id });
    expect((await ana!.annotations.list({ slideId: ids.slide! })).some((a) => a.id === mine.id)).toBe(false);
    await expect(ana!.annotations.remove({ id: mine.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("GeoJSON export", () => {
  it("is a FeatureCollection of what the user sees, with the slide's scale and coordinate system", async () => {
    const bo = (await loadSessionUser(handle.db, ids.bo!))!;
    const collection = await exportAnnotationsGeoJson(handle.db, bo, ids.slide!);
    expect(collection.type).toBe("FeatureCollection");
    expect(collection.pathx).toEqual({ slideId: ids.slide, mppX: 0.5, mppY: 0.25, coordinateSystem: "level-0 pixels, origin top-left, y down" });
    const listed = await (await as(ids.bo!)).annotations.list({ slideId: ids.slide! });
    expect(collection.features.map((f) => f.id)).toEqual(listed.map((a) => a.id));
    const shared = collection.features.find((f) => f.properties.label === "for consult")!;
    expect(shared).toEqual({
      type: "Feature",
      id: expect.any(String),
      geometry: { type: "Point", coordinates: [2, 10] },
      properties: { kind: "point", label: "for consult", lengthUm: null, areaUm2: null, author: "ANA", createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    expect(JSON.parse(JSON.stringify(collection))).toEqual(collection);
  });
});
