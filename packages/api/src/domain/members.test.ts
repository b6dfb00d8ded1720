import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { createLocalStore } from "@pathx/storage";
import { appRouter } from "../routers/index";
import { createCallerFactory, createContext } from "../trpc";

let handle: DbHandle;
const ids: Record<string, string> = {};

beforeAll(async () => {
  handle = await createTestDb();
  const db = handle.db;
  const [north, south, east] = await db
    .insert(schema.labs)
    .values([
      { slug: "north", name: "North" },
      { slug: "south", name: "South" },
      { slug: "east", name: "East" },
    ])
    .returning();
  const people = [
    ["nadmin", [[north!.id, "lab_admin"]]],
    ["sam", [[south!.id, "pathologist"]]],
    // A pathologist at North who administers East: acting for North must be refused.
    [
      "mixed",
      [
        [north!.id, "pathologist"],
        [east!.id, "lab_admin"],
      ],
    ],
  ] as const;
  for (const [name, labs] of people) {
    const [u] = await db
      .insert(schema.users)
      .values({ email: `${name}@example.org`, name })
      .returning();
    for (const [labId, role] of labs) await db.insert(schema.memberships).values({ userId: u!.id, labId, role });
    ids[name] = u!.id;
  }
  Object.assign(ids, { north: north!.id, south: south!.id, east: east!.id });
});

afterAll(() => handle.close());

const caller = async (userId: string) =>
  createCallerFactory(appRouter)(await createContext({ db: handle.db, store: createLocalStore("/nonexistent") }, { headers: new Headers(), userId }));
const labsOf = async (userId: string) =>
  (
    await handle.db
      .select({ labId: schema.memberships.labId, role: schema.memberships.role })
      .from(schema.memberships)
      .where(eq(schema.memberships.userId, userId))
  )
    .map((m) => `${m.labId === ids.north ? "north" : m.labId === ids.south ? "south" : "east"}:${m.role}`)
    .sort();

it("adding another lab's pathologist is an invitation: no lab change until they accept", async () => {
  const nadmin = await caller(ids.nadmin!);
  await nadmin.members.add({ labId: ids.north!, email: "SAM@example.org", name: "", role: "lab_admin" });
  expect(await labsOf(ids.sam!)).toEqual(["south:pathologist"]);
  const sam = await caller(ids.sam!);
  const [invitation] = await sam.invitations.list();
  expect(invitation).toMatchObject({ labName: "North", role: "lab_admin" });
  expect((await sam.inbox.list())[0]).toMatchObject({ title: "North invites you to join as lab administrator" });
  // Nobody else can answer it.
  await expect(nadmin.invitations.accept({ id: invitation!.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  await sam.invitations.decline({ id: invitation!.id });
  expect(await labsOf(ids.sam!)).toEqual(["south:pathologist"]);
  await expect(sam.invitations.accept({ id: invitation!.id })).rejects.toMatchObject({ code: "NOT_FOUND" });
  await nadmin.members.add({ labId: ids.north!, email: "sam@example.org", name: "", role: "pathologist" });
  const [again] = await sam.invitations.list();
  await sam.invitations.accept({ id: again!.id });
  expect(await labsOf(ids.sam!)).toEqual(["north:pathologist", "south:pathologist"]);
});

it("answers the same whether or not an e-mail has an account", async () => {
  const nadmin = await caller(ids.nadmin!);
  const existing = await nadmin.members
    .add({ labId: ids.north!, email: "mixed@example.org", name: "", role: "pathologist", password: "a-long-first-password" })
    .catch((e: unknown) => e);
  const unknown = await nadmin.members.add({
    labId: ids.north!,
    email: "brand-new@example.org",
    name: "New",
    role: "pathologist",
    password: "a-long-first-password",
  });
  // mixed is already a member of North: that is North's own business, and says nothing of other labs.
  expect(existing).toMatchObject({ code: "CONFLICT" });
  const other = await nadmin.members.add({ labId: ids.north!, email: "someone-at-east@example.org", name: "", role: "pathologist" });
  const invited = await (async () => {
    const [u] = await handle.db.insert(schema.users).values({ email: "eve@example.org", name: "Eve" }).returning();
    await handle.db.insert(schema.memberships).values({ userId: u!.id, labId: ids.east!, role: "pathologist" });
    return nadmin.members.add({ labId: ids.north!, email: "eve@example.org", name: "", role: "pathologist" });
  })();
  const shape = (a: { email: string; message: string }) => ({ keys: Object.keys(a).sort(), message: a.message.replace(a.email, "ADDRESS") });
  expect(shape(invited)).toEqual(shape(unknown));
  expect(shape(other)).toEqual(shape(unknown));
  // A short password is refused whoever the e-mail belongs to.
  await expect(nadmin.members.add({ labId: ids.north!, email: "eve@example.org", name: "", role: "pathologist", password: "short" })).rejects.toMatchObject({
    code: "BAD_REQUEST",
  });
});

it("acts only for the lab named, and only where the caller is its administrator", async () => {
  const mixed = await caller(ids.mixed!);
  await expect(mixed.members.add({ labId: ids.north!, email: "x1@example.org", name: "", role: "pathologist" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  await expect(mixed.members.add({ labId: ids.south!, email: "x1@example.org", name: "", role: "pathologist" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  await mixed.members.add({ labId: ids.east!, email: "x1@example.org", name: "", role: "pathologist" });
  const [x1] = await handle.db.select().from(schema.users).where(eq(schema.users.email, "x1@example.org"));
  expect(await labsOf(x1!.id)).toEqual(["east:pathologist"]);
  await expect((await caller(ids.sam!)).members.add({ labId: ids.north!, email: "x2@example.org", name: "", role: "pathologist" })).rejects.toMatchObject({
    code: "FORBIDDEN",
  });
});
