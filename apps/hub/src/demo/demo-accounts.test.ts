import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authenticateWithPassword, loadSessionUser } from "@pathx/api";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { demoAccounts, demoPassword, formatDemoAccounts, seedDemoUsers } from "./demo-accounts";

let handle: DbHandle;
beforeAll(async () => {
  handle = await createTestDb();
  await seedDemoUsers(handle.db);
});
afterAll(() => handle.close());

describe("demo accounts", () => {
  it("npm start prints every account the seed creates, with its lab and role", async () => {
    const users = await handle.db.select().from(schema.users);
    const printed = formatDemoAccounts().split("\n");
    expect(printed[0]).toBe(`Demo sign-ins (password: ${demoPassword}):`);
    expect(printed).toHaveLength(users.length + 1);
    for (const user of users) {
      const line = printed.find((l) => l.trim().startsWith(`${user.email} `));
      expect(line, user.email).toBeDefined();
      const session = await loadSessionUser(handle.db, user.id);
      const membership = session!.memberships[0];
      if (membership) expect(line).toContain(`${membership.role === "lab_admin" ? "lab admin" : "pathologist"}, ${membership.labName}`);
      else expect(line).toContain("hub administrator");
    }
    expect(printed.join("\n")).toContain("pathologist@east.example");
  });

  it("every printed account signs in with the printed password", async () => {
    for (const account of demoAccounts) expect(await authenticateWithPassword(handle.db, account.email, demoPassword), account.email).toBeTruthy();
  });
});
