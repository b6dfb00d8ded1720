import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { createLocalStore } from "@pathx/storage";
import { appRouter } from "../routers/index";
import { createCallerFactory, createContext } from "../trpc";
import { activeSessionUser, endSession, startSession } from "./sessions";

let handle: DbHandle;
const ids: Record<string, string> = {};
const store = createLocalStore("/nonexistent-store-not-used");
const callerFor = async (userId: string) => createCallerFactory(appRouter)(await createContext({ db: handle.db, store }, { headers: new Headers(), userId }));
const signIn = (userId: string) => startSession(handle.db, { userId, method: "password", maxAgeSeconds: 3600 });

beforeAll(async () => {
  handle = await createTestDb();
  const [lab, other] = await handle.db
    .insert(schema.labs)
    .values([
      { slug: "a", name: "Lab A" },
      { slug: "b", name: "Lab B" },
    ])
    .returning();
  for (const [name, labId, role] of [
    ["admin", lab!.id, "lab_admin"],
    ["member", lab!.id, "pathologist"],
    ["elsewhere", other!.id, "pathologist"],
  ] as const) {
    const [u] = await handle.db
      .insert(schema.users)
      .values({ email: `${name}@x.example`, name })
      .returning();
    await handle.db.insert(schema.memberships).values({ userId: u!.id, labId, role });
    ids[name] = u!.id;
  }
});
afterAll(() => handle.close());

describe("revocable sessions", () => {
  it("is active until signed out, and until it expires", async () => {
    const id = await signIn(ids.member!);
    expect(await activeSessionUser(handle.db, id)).toBe(ids.member);
    expect(await activeSessionUser(handle.db, id, new Date(Date.now() + 3601_000))).toBeUndefined();
    await endSession(handle.db, id);
    expect(await activeSessionUser(handle.db, id)).toBeUndefined();
    expect(await activeSessionUser(handle.db, "not-a-uuid")).toBeUndefined();
  });

  it("ends every session of a member the lab admin removes", async () => {
    const [a, b] = [await signIn(ids.member!), await signIn(ids.member!)];
    await (await callerFor(ids.admin!)).members.remove({ userId: ids.member! });
    expect(await activeSessionUser(handle.db, a)).toBeUndefined();
    expect(await activeSessionUser(handle.db, b)).toBeUndefined();
    await handle.db.insert(schema.memberships).values({ userId: ids.member!, labId: (await handle.db.select().from(schema.labs))[0]!.id, role: "pathologist" });
  });

  it("lets a lab admin sign a member out everywhere, but not someone of another lab", async () => {
    const mine = await signIn(ids.member!);
    const theirs = await signIn(ids.elsewhere!);
    const admin = await callerFor(ids.admin!);
    expect(await admin.members.signOutEverywhere({ userId: ids.member! })).toEqual({ ended: 1 });
    expect(await activeSessionUser(handle.db, mine)).toBeUndefined();
    await expect(admin.members.signOutEverywhere({ userId: ids.elsewhere! })).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await activeSessionUser(handle.db, theirs)).toBe(ids.elsewhere);
  });

  it("lets anyone sign themselves out everywhere", async () => {
    const [a, b] = [await signIn(ids.elsewhere!), await signIn(ids.elsewhere!)];
    await (await callerFor(ids.elsewhere!)).sessions.signOutEverywhere();
    expect(await activeSessionUser(handle.db, a)).toBeUndefined();
    expect(await activeSessionUser(handle.db, b)).toBeUndefined();
  });
});
