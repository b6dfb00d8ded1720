import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter, createCallerFactory, createContext, createInProcessBoardChannel } from "@pathx/api";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { createLocalStore } from "@pathx/storage";
import { formOutcomeTarget } from "./form-outcome";

let handle: DbHandle;
let root: string;
let labId: string;
let admin: string;
let member: string;
let other: string;

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "pathx-form-"));
  const [lab] = await handle.db.insert(schema.labs).values({ slug: "a", name: "Lab A" }).returning();
  const [a, m, o] = await handle.db
    .insert(schema.users)
    .values([
      { email: "admin@a.example", name: "Admin" },
      { email: "m@a.example", name: "Member" },
      { email: "o@a.example", name: "Other" },
    ])
    .returning();
  labId = lab!.id;
  admin = a!.id;
  member = m!.id;
  other = o!.id;
  await handle.db.insert(schema.memberships).values([
    { userId: admin, labId, role: "lab_admin" },
    { userId: member, labId, role: "pathologist" },
    { userId: other, labId, role: "pathologist" },
  ]);
});

afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

/** The tRPC caller a form action gets, for a user, on the real router. */
const apiFor = async (userId: string) =>
  createCallerFactory(appRouter)(
    await createContext(
      { db: handle.db, store: createLocalStore(root), enqueueTiling: async () => {}, boardChannel: createInProcessBoardChannel() },
      { headers: new Headers(), userId },
    ),
  );
const roleOf = async (userId: string) =>
  (
    await handle.db
      .select()
      .from(schema.memberships)
      .where(and(eq(schema.memberships.userId, userId), eq(schema.memberships.labId, labId)))
  )[0]!.role;
const errorIn = (target: string) => new URL(target, "https://hub.example").searchParams.get("error");

describe("formOutcomeTarget", () => {
  it("shows the page again with the message once the mutation is done", async () => {
    const api = await apiFor(admin);
    const target = await formOutcomeTarget("/lab/members", () => api.members.setRole({ userId: other, role: "lab_admin" }), "Role changed & saved.");
    expect(target).toBe("/lab/members?message=Role%20changed%20%26%20saved.");
    expect(await roleOf(other)).toBe("lab_admin");
  });

  it("goes to the page the mutation names", async () => {
    expect(await formOutcomeTarget("/consults/new", async () => "/consults/123", "Sent.")).toBe("/consults/123?message=Sent.");
  });

  it("shows the domain's refusal and changes nothing", async () => {
    const api = await apiFor(member);
    const before = await roleOf(admin);
    const target = await formOutcomeTarget("/lab/members", () => api.members.setRole({ userId: admin, role: "pathologist" }), "Role changed.");
    expect(target.startsWith("/lab/members?error=")).toBe(true);
    expect(errorIn(target)).toMatch(/.+/);
    expect(errorIn(target)).not.toContain("Role changed");
    expect(await roleOf(admin)).toBe(before);
  });

  it("says which field is wrong when the input is refused", async () => {
    const api = await apiFor(admin);
    const target = await formOutcomeTarget("/lab/members", () => api.members.setRole({ userId: member, role: "emperor" as "pathologist" }), "Role changed.");
    expect(errorIn(target)).toMatch(/^Check what you entered: role /);
  });

  it("hides an unexpected failure behind a plain retry message", async () => {
    const target = await formOutcomeTarget(
      "/lab/members",
      async () => {
        throw new Error("ECONNRESET 10.0.0.7:5432");
      },
      "Done.",
    );
    expect(errorIn(target)).toBe("That did not work; try again.");
  });
});
