import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import { appRouter } from "../routers/index";
import { createCallerFactory, createContext } from "../trpc";
import { indexBatchInput } from "./indexed-slides";
import { FLAGGED_LOOKUPS_PER_HOUR } from "./priors";
import { uploadStartInput } from "./uploads";

let handle: DbHandle;
let store: ObjectStore;
let root: string;
const ids: Record<string, string> = {};
const pseudonym = (patient: string) => `hmac-sha256:${createHmac("sha256", "labs-key").update(patient).digest("hex")}`;

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "priors-"));
  store = createLocalStore(root);
  const db = handle.db;
  const [north, south, west] = await db
    .insert(schema.labs)
    .values([
      { slug: "north", name: "North" },
      { slug: "south", name: "South" },
      { slug: "west", name: "West" },
    ])
    .returning();
  const people = [
    ["ana", north!.id, "pathologist"],
    ["nadmin", north!.id, "lab_admin"],
    ["sam", south!.id, "pathologist"],
    ["sadmin", south!.id, "lab_admin"],
    ["wes", west!.id, "pathologist"],
  ] as const;
  for (const [name, labId, role] of people) {
    const [u] = await db
      .insert(schema.users)
      .values({ email: `${name}@example.org`, name })
      .returning();
    await db.insert(schema.memberships).values({ userId: u!.id, labId, role });
    ids[name] = u!.id;
  }
  const patient = pseudonym("19700101-1234");
  const [n1, s1, w1] = await db
    .insert(schema.cases)
    .values([
      { labId: north!.id, accessionNumber: "N1", patientPseudonym: patient },
      { labId: south!.id, accessionNumber: "S1", patientPseudonym: patient },
      { labId: west!.id, accessionNumber: "W1", patientPseudonym: patient },
    ])
    .returning();
  const slide = (labId: string, caseId: string, status: "ready" | "failed" | "indexed") => ({
    labId,
    caseId,
    fileName: "s.svs",
    sizeBytes: 1,
    status,
    sourceKey: status === "indexed" ? null : "sources/x",
  });
  // West's only slide of this patient is junk that failed tiling: West has no real slide of them.
  await db.insert(schema.slides).values([slide(north!.id, n1!.id, "indexed"), slide(south!.id, s1!.id, "ready"), slide(west!.id, w1!.id, "failed")]);
  // More patients West made junk cases for, to look up.
  for (let i = 0; i < FLAGGED_LOOKUPS_PER_HOUR + 1; i++) {
    const [c] = await db
      .insert(schema.cases)
      .values({ labId: west!.id, accessionNumber: `WJ${i}`, patientPseudonym: pseudonym(`other-${i}`) })
      .returning();
    await db.insert(schema.slides).values(slide(west!.id, c!.id, "failed"));
    ids[`junk${i}`] = c!.id;
  }
  Object.assign(ids, { north: north!.id, south: south!.id, west: west!.id, n1: n1!.id, w1: w1!.id });
});

afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

const caller = async (userId: string) => createCallerFactory(appRouter)(await createContext({ db: handle.db, store }, { headers: new Headers(), userId }));

describe("patient pseudonyms", () => {
  const raw = "19700101-1234 Jane Roe";
  const meta = (patientPseudonym?: string) => ({ accessionNumber: "X1", block: "A1", stain: "H&E", specimen: "", patientPseudonym });
  it("are accepted only as hmac-sha256:<hex> (or none) from a lab node's upload and index records", () => {
    const start = (p?: string) => uploadStartInput.safeParse({ fileName: "x.svs", size: 100, sha256: "a".repeat(64), meta: meta(p) }).success;
    expect([start(raw), start("hmac-sha256:xyz"), start(`hmac-sha256:${"A".repeat(64)}`), start(pseudonym("p")), start(undefined), start("")]).toEqual([
      false,
      false,
      false,
      true,
      true,
      true,
    ]);
    const record = (p?: string) => ({
      ref: "r".repeat(20),
      fileName: "x.svs",
      size: 1,
      meta: meta(p),
      image: { width: 1, height: 1, mppX: null, mppY: null, objectivePower: null, vendor: "" },
    });
    expect(indexBatchInput.safeParse({ records: [record(raw)] }).success).toBe(false);
    expect(indexBatchInput.safeParse({ records: [record(pseudonym("p"))] }).success).toBe(true);
  });

  it("are never taken from a browser upload: it has no patient field, and one sent anyway is refused", async () => {
    const api = await caller(ids.ana!);
    const input = { fileName: "x.svs", size: 100, sha256: "b".repeat(64) };
    for (const p of [raw, pseudonym("p")]) await expect(api.uploads.start({ ...input, meta: meta(p) })).rejects.toMatchObject({ code: "BAD_REQUEST" });
    expect(await api.uploads.start({ ...input, meta: { accessionNumber: "X1", block: "A1", stain: "H&E", specimen: "" } })).toMatchObject({ kind: "open" });
  });
});

describe("prior look-ups", () => {
  it("are audited with the case they were done for, and the owning labs' admins see who looked", async () => {
    const priors = await (await caller(ids.ana!)).cases.priors({ id: ids.n1! });
    expect(priors.flagged).toBe(false); // North's node indexed a slide of this patient
    expect(priors.groups.map((g) => g.labName)).toEqual(["North", "South", "West"]);
    const seenBySouth = await (await caller(ids.sadmin!)).audit.priorLookups();
    expect(seenBySouth).toEqual([expect.objectContaining({ viewer: "ana", viewerLab: "North", accession: "N1", flagged: false })]);
    // North's own admin does not see North's own look-ups as outsiders'.
    expect(await (await caller(ids.nadmin!)).audit.priorLookups()).toEqual([]);
    // Refreshing the page does not write a new entry each time.
    await (await caller(ids.ana!)).cases.priors({ id: ids.n1! });
    expect(await (await caller(ids.sadmin!)).audit.priorLookups()).toHaveLength(1);
  });

  it("by a lab with no real slide of the patient are flagged, and limited per hour", async () => {
    const wes = await caller(ids.wes!);
    expect((await wes.cases.priors({ id: ids.w1! })).flagged).toBe(true);
    expect(await (await caller(ids.sadmin!)).audit.priorLookups()).toContainEqual(
      expect.objectContaining({ viewer: "wes", viewerLab: "West", accession: "W1", flagged: true }),
    );
    for (let i = 0; i < FLAGGED_LOOKUPS_PER_HOUR - 1; i++) await wes.cases.priors({ id: ids[`junk${i}`]! });
    const refused = await wes.cases.priors({ id: ids[`junk${FLAGGED_LOOKUPS_PER_HOUR}`]! }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCError);
    expect((refused as TRPCError).message).toMatch(/Too many prior look-ups/);
    // A case already looked up this hour still answers.
    expect((await wes.cases.priors({ id: ids.w1! })).flagged).toBe(true);
  });
});
