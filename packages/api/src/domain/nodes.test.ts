import { eq } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { createEnrollmentToken, enrollNode } from "./nodes";

let handle: DbHandle;
let labId: string;
let userId: string;

beforeAll(async () => {
  handle = await createTestDb();
  const [lab] = await handle.db.insert(schema.labs).values({ slug: "a", name: "A" }).returning();
  const [user] = await handle.db.insert(schema.users).values({ email: "admin@a.example", name: "Admin" }).returning();
  labId = lab!.id;
  userId = user!.id;
});

afterAll(() => handle.close());

it("redeems a one-time enrolment token exactly once when 50 nodes race for it", async () => {
  const { token } = await createEnrollmentToken(handle.db, labId, userId);
  const outcomes = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => enrollNode(handle.db, token, { name: `node ${i}` })));
  const won = outcomes.filter((o) => o.status === "fulfilled");
  expect(won).toHaveLength(1);
  for (const lost of outcomes.filter((o) => o.status === "rejected"))
    expect(String((lost as PromiseRejectedResult).reason)).toContain("unknown, used or expired");
  const nodes = await handle.db.select().from(schema.nodes).where(eq(schema.nodes.labId, labId));
  expect(nodes).toHaveLength(1);
  const [row] = await handle.db.select().from(schema.enrollmentTokens);
  expect(row!.nodeId).toBe(nodes[0]!.id);
});

it("refuses an expired token", async () => {
  const { token } = await createEnrollmentToken(handle.db, labId, userId);
  await handle.db.update(schema.enrollmentTokens).set({ expiresAt: new Date(Date.now() - 1000) });
  await expect(enrollNode(handle.db, token, { name: "late" })).rejects.toThrow("unknown, used or expired");
});
