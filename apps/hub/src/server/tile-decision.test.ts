import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { decideTileAccessWith } from "./tile-decision";

let handle: DbHandle;
const user: Record<"own" | "granted" | "expired" | "revoked" | "stranger" | "unknown", string> = {
  own: "",
  granted: "",
  expired: "",
  revoked: "",
  stranger: "",
  unknown: randomUUID(),
};
let tiled: string;
let arriving: string;
let bare: string;

beforeAll(async () => {
  handle = await createTestDb();
  const { db } = handle;
  const [labA, labB] = await db
    .insert(schema.labs)
    .values([
      { slug: "a", name: "Lab A" },
      { slug: "b", name: "Lab B" },
    ])
    .returning();
  for (const name of ["own", "granted", "expired", "revoked", "stranger"] as const) {
    const [u] = await db
      .insert(schema.users)
      .values({ email: `${name}@example.org`, name })
      .returning();
    await db.insert(schema.memberships).values({ userId: u!.id, labId: name === "own" ? labA!.id : labB!.id, role: "pathologist" });
    user[name] = u!.id;
  }
  const [kase] = await db.insert(schema.cases).values({ labId: labA!.id, accessionNumber: "A-1", patientPseudonym: "hmac:patient" }).returning();
  const slide = (name: string, extra: Partial<typeof schema.slides.$inferInsert>) => ({
    labId: labA!.id,
    caseId: kase!.id,
    fileName: name,
    sizeBytes: 1,
    sha256: name,
    sourceKey: `sources/${name}`,
    ...extra,
  });
  const [a, b, c] = await db
    .insert(schema.slides)
    .values([
      slide("tiled.svs", { status: "ready", tilesPrefix: "tiles/t/1", thumbnailKey: "tiles/t/1/thumb.jpeg", width: 1000, height: 800 }),
      slide("arriving.svs", { status: "tiling", thumbnailKey: "thumbs/arriving.jpeg" }),
      slide("bare.svs", { status: "tiling" }),
    ])
    .returning();
  tiled = a!.id;
  arriving = b!.id;
  bare = c!.id;
  const source = randomUUID();
  await db.insert(schema.accessGrants).values([
    { slideId: tiled, granteeUserId: user.granted, reason: "consult", sourceId: source },
    { slideId: tiled, granteeUserId: user.expired, reason: "consult", sourceId: source, expiresAt: new Date(Date.now() - 60_000) },
    { slideId: tiled, granteeUserId: user.revoked, reason: "board", sourceId: source, revokedAt: new Date() },
  ]);
});

afterAll(() => handle.close());

// Each test has its own session cookie, so no decision kept by another test answers for it.
const withSession = () => new Headers({ cookie: `theme=dark; authjs.session-token=${randomUUID()}` });
const openDb = async () => handle.db;
const as = (userId: string | undefined) => async () => userId;

describe("decideTileAccessWith", () => {
  it("gives a member of the slide's lab its pyramid and thumbnail", async () => {
    expect(await decideTileAccessWith(withSession(), tiled, as(user.own), openDb)).toEqual({ tilesPrefix: "tiles/t/1", thumbnailKey: "tiles/t/1/thumb.jpeg" });
  });

  it("answers a caller who is not signed in as unauthenticated, before opening the database", async () => {
    let opened = false;
    const decision = await decideTileAccessWith(new Headers(), tiled, as(undefined), async () => {
      opened = true;
      return handle.db;
    });
    expect(decision).toBe("unauthenticated");
    expect(opened).toBe(false);
  });

  it("denies another lab's member without a grant, and with an expired or revoked one", async () => {
    for (const name of ["stranger", "expired", "revoked"] as const) {
      expect(await decideTileAccessWith(withSession(), tiled, as(user[name]), openDb), name).toBe("denied");
    }
  });

  it("gives another lab's member with an active grant the slide", async () => {
    expect(await decideTileAccessWith(withSession(), tiled, as(user.granted), openDb)).toEqual({
      tilesPrefix: "tiles/t/1",
      thumbnailKey: "tiles/t/1/thumb.jpeg",
    });
  });

  it("denies a slide that does not exist, a user who no longer exists, and a slide with no pictures yet", async () => {
    expect(await decideTileAccessWith(withSession(), randomUUID(), as(user.own), openDb)).toBe("denied");
    expect(await decideTileAccessWith(withSession(), tiled, as(user.unknown), openDb)).toBe("denied");
    expect(await decideTileAccessWith(withSession(), bare, as(user.own), openDb)).toBe("denied");
  });

  it("gives a slide still being tiled its thumbnail only", async () => {
    expect(await decideTileAccessWith(withSession(), arriving, as(user.own), openDb)).toEqual({ tilesPrefix: null, thumbnailKey: "thumbs/arriving.jpeg" });
  });

  it("keeps a tiled slide's decision per session for a few seconds, so a grant revoked meanwhile still answers until then", async () => {
    const headers = withSession();
    let asked = 0;
    const granted = async () => {
      asked++;
      return user.granted;
    };
    expect(await decideTileAccessWith(headers, tiled, granted, openDb)).not.toBe("denied");
    await handle.db.update(schema.accessGrants).set({ revokedAt: new Date() }).where(eq(schema.accessGrants.granteeUserId, user.granted));
    expect(await decideTileAccessWith(headers, tiled, granted, openDb)).toEqual({ tilesPrefix: "tiles/t/1", thumbnailKey: "tiles/t/1/thumb.jpeg" });
    expect(asked).toBe(1);
    // Another session of the same user is decided afresh, and the revoked grant counts.
    expect(await decideTileAccessWith(withSession(), tiled, granted, openDb)).toBe("denied");
    // So is a request without a session cookie: nothing is kept for it.
    expect(await decideTileAccessWith(new Headers(), tiled, as(user.own), openDb)).not.toBe("denied");
    expect(await decideTileAccessWith(new Headers(), tiled, as(user.stranger), openDb)).toBe("denied");
  });

  it("does not keep the decision for a slide still arriving: its pyramid is given as soon as it is ready", async () => {
    const headers = withSession();
    expect(await decideTileAccessWith(headers, arriving, as(user.own), openDb)).toEqual({ tilesPrefix: null, thumbnailKey: "thumbs/arriving.jpeg" });
    await handle.db.update(schema.slides).set({ status: "ready", tilesPrefix: "tiles/a/1" }).where(eq(schema.slides.id, arriving));
    expect(await decideTileAccessWith(headers, arriving, as(user.own), openDb)).toEqual({ tilesPrefix: "tiles/a/1", thumbnailKey: "thumbs/arriving.jpeg" });
  });
});
