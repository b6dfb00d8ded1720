import { and, eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { ApiError, notFound } from "../errors";
import { hashPassword } from "./passwords";
import { endUserSessions } from "./sessions";

const { users, memberships } = schema;
type Role = "pathologist" | "lab_admin";

export async function listLabMembers(db: Db, labId: string) {
  return db
    .select({ userId: users.id, email: users.email, name: users.name, role: memberships.role, subspecialties: memberships.subspecialties, since: memberships.createdAt })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.labId, labId))
    .orderBy(users.name);
}

/** Adds a person to the lab: an existing account by email, or a new one with a first password. */
export async function addLabMember(db: Db, labId: string, input: { email: string; name: string; role: Role; password?: string }) {
  const email = input.email.trim().toLowerCase();
  let [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  if (!user) {
    if (!input.password || input.password.length < 10) {
      throw new ApiError("BAD_REQUEST", "A new account needs a first password of at least 10 characters.");
    }
    [user] = await db.insert(users).values({ email, name: input.name.trim() || email, passwordHash: await hashPassword(input.password) }).returning();
  }
  const [existing] = await db.select().from(memberships).where(and(eq(memberships.labId, labId), eq(memberships.userId, user!.id))).limit(1);
  if (existing) throw new ApiError("CONFLICT", `${email} is already a member of this lab.`);
  await db.insert(memberships).values({ labId, userId: user!.id, role: input.role });
  return { userId: user!.id };
}

/** Changes a member's role; the lab always keeps at least one administrator. */
export async function setLabMemberRole(db: Db, labId: string, userId: string, role: Role) {
  const members = await listLabMembers(db, labId);
  const member = members.find((m) => m.userId === userId);
  if (!member) throw notFound("Member");
  if (member.role === "lab_admin" && role !== "lab_admin" && members.filter((m) => m.role === "lab_admin").length === 1) {
    throw new ApiError("BAD_REQUEST", "The lab needs at least one administrator: make someone else administrator first.");
  }
  await db.update(memberships).set({ role }).where(and(eq(memberships.labId, labId), eq(memberships.userId, userId)));
}

/** The subspecialty pools a member answers second opinions for. */
export async function setMemberSubspecialties(db: Db, labId: string, userId: string, subspecialties: string[]) {
  const [row] = await db
    .update(memberships)
    .set({ subspecialties: [...new Set(subspecialties)] })
    .where(and(eq(memberships.labId, labId), eq(memberships.userId, userId)))
    .returning({ userId: memberships.userId });
  if (!row) throw notFound("Member");
}

/** Removes a member from the lab and ends their sessions at once; the lab keeps an administrator. */
export async function removeLabMember(db: Db, labId: string, userId: string) {
  const members = await listLabMembers(db, labId);
  const member = members.find((m) => m.userId === userId);
  if (!member) throw notFound("Member");
  if (member.role === "lab_admin" && members.filter((m) => m.role === "lab_admin").length === 1) {
    throw new ApiError("BAD_REQUEST", "The lab needs at least one administrator: make someone else administrator first.");
  }
  await db.delete(memberships).where(and(eq(memberships.labId, labId), eq(memberships.userId, userId)));
  await endUserSessions(db, userId, "member-removed");
}

/** A lab admin's "sign out everywhere" for a member of their lab: every session of theirs ends. */
export async function signOutMemberEverywhere(db: Db, labId: string, userId: string) {
  const [member] = await db.select().from(memberships).where(and(eq(memberships.labId, labId), eq(memberships.userId, userId))).limit(1);
  if (!member) throw notFound("Member");
  return { ended: await endUserSessions(db, userId, "signed-out-everywhere") };
}
