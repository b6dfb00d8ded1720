import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { resolveOidcSignIn } from "./oidc";

let handle: DbHandle;
const ids: Record<string, string> = {};
const issuerA = "https://id.lab-a.example";
const providerA = { issuer: issuerA, labSlug: "a" };

beforeAll(async () => {
  handle = await createTestDb();
  const db = handle.db;
  const [labA, labB] = await db
    .insert(schema.labs)
    .values([
      { slug: "a", name: "Lab A" },
      { slug: "b", name: "Lab B" },
    ])
    .returning();
  const people = [
    ["doc-a@a.example", labA!.id, false],
    ["doc-b@b.example", labB!.id, false],
    ["admin@hub.example", labA!.id, true],
    ["renamed@a.example", labA!.id, false],
  ] as const;
  for (const [email, labId, isHubAdmin] of people) {
    const [u] = await db.insert(schema.users).values({ email, name: email, isHubAdmin }).returning();
    await db.insert(schema.memberships).values({ userId: u!.id, labId, role: "pathologist" });
    ids[email] = u!.id;
  }
});
afterAll(() => handle.close());

describe("lab identity provider sign-in", () => {
  it("signs in a member of the provider's lab with a verified e-mail", async () => {
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "a-1", email: "doc-a@a.example", email_verified: true })).toEqual({
      outcome: "ok",
      userId: ids["doc-a@a.example"],
    });
  });

  it("refuses a member of another lab asserted by this lab's provider", async () => {
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "b-1", email: "doc-b@b.example", email_verified: true })).toEqual({
      outcome: "refused",
      reason: "no-account",
    });
  });

  it("refuses an unverified e-mail, and one whose verification is not stated", async () => {
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "a-2", email: "renamed@a.example", email_verified: false })).toEqual({
      outcome: "refused",
      reason: "unverified-email",
    });
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "a-2", email: "renamed@a.example" })).toEqual({
      outcome: "refused",
      reason: "unverified-email",
    });
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "a-2", email: "renamed@a.example", email_verified: "true" })).toEqual({
      outcome: "refused",
      reason: "unverified-email",
    });
  });

  it("never signs in a hub administrator through a lab's provider", async () => {
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "a-3", email: "admin@hub.example", email_verified: true })).toEqual({
      outcome: "refused",
      reason: "hub-admin",
    });
  });

  it("keeps matching the linked subject when the provider changes the e-mail", async () => {
    const first = await resolveOidcSignIn(handle.db, providerA, { sub: "a-4", email: "renamed@a.example", email_verified: true });
    expect(first).toEqual({ outcome: "ok", userId: ids["renamed@a.example"] });
    // Same subject, new address (even one nobody has): still the same person.
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "a-4", email: "new-name@a.example", email_verified: true })).toEqual(first);
    // Someone else now asserting the old address under another subject does not take the account over.
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "a-5", email: "renamed@a.example", email_verified: true })).toEqual({
      outcome: "refused",
      reason: "linked-elsewhere",
    });
  });

  it("refuses a linked subject once the person left the lab", async () => {
    await handle.db.delete(schema.memberships).where(eq(schema.memberships.userId, ids["doc-a@a.example"]!));
    expect(await resolveOidcSignIn(handle.db, providerA, { sub: "a-1", email: "doc-a@a.example", email_verified: true })).toEqual({
      outcome: "refused",
      reason: "no-account",
    });
  });

  it("refuses a provider bound to a lab that does not exist", async () => {
    expect(await resolveOidcSignIn(handle.db, { issuer: issuerA, labSlug: "nowhere" }, { sub: "x", email: "doc-a@a.example", email_verified: true })).toEqual({
      outcome: "refused",
      reason: "unknown-lab",
    });
  });
});
