import { asc, eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { verifyPassword } from "./passwords";

export interface Membership {
  labId: string;
  labSlug: string;
  labName: string;
  role: "pathologist" | "lab_admin";
}

export interface SessionUser {
  id: string;
  email: string;
  name: string;
  isHubAdmin: boolean;
  memberships: Membership[];
}

/**
 * Verified against when the email has no password (unknown or identity-provider only), so the
 * answer takes as long as for a real account: a hash of random bytes nobody knows.
 */
export const DUMMY_PASSWORD_HASH = "scrypt$32768$8$1$jLefxcVJsdOGYdXM6p8l5Q==$HivXVV81Cd9NZu6ATU2u1HYU8k7xToYsJlocsVvLBSk=";

/** Email and password check; undefined for any mismatch (the caller says one generic thing). */
export async function authenticateWithPassword(
  db: Db,
  email: string,
  password: string,
  verify: (password: string, stored: string) => Promise<boolean> = verifyPassword,
): Promise<{ id: string; email: string; name: string } | undefined> {
  const [user] = await db.select().from(schema.users).where(eq(schema.users.email, email.trim().toLowerCase())).limit(1);
  const matches = await verify(password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  return user?.passwordHash && matches ? { id: user.id, email: user.email, name: user.name } : undefined;
}

/** The signed-in user with every lab they belong to: loaded once per request. */
export async function loadSessionUser(db: Db, userId: string): Promise<SessionUser | undefined> {
  const [user] = await db.select().from(schema.users).where(eq(schema.users.id, userId)).limit(1);
  if (!user) return undefined;
  const rows = await db
    .select({ labId: schema.labs.id, labSlug: schema.labs.slug, labName: schema.labs.name, role: schema.memberships.role })
    .from(schema.memberships)
    .innerJoin(schema.labs, eq(schema.labs.id, schema.memberships.labId))
    .where(eq(schema.memberships.userId, userId))
    // A stable order: the default lab of a request without x-pathx-lab is the first joined, never an accident of the planner.
    .orderBy(asc(schema.memberships.createdAt), asc(schema.labs.slug));
  return { id: user.id, email: user.email, name: user.name, isHubAdmin: user.isHubAdmin, memberships: rows };
}

export async function findUserIdByEmail(db: Db, email: string): Promise<string | undefined> {
  const [user] = await db.select({ id: schema.users.id }).from(schema.users).where(eq(schema.users.email, email.trim().toLowerCase())).limit(1);
  return user?.id;
}
