import { and, desc, eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { ApiError, notFound } from "../errors";
import { recordAudit } from "./audit";
import { notify } from "./notifications";
import { hashPassword } from "./passwords";
import { endUserSessions } from "./sessions";
import type { Membership } from "./users";

const { users, memberships, labInvitations, labs } = schema;
type Role = "pathologist" | "lab_admin";

export async function listLabMembers(db: Db, labId: string) {
  return db
    .select({
      userId: users.id,
      email: users.email,
      name: users.name,
      role: memberships.role,
      subspecialties: memberships.subspecialties,
      since: memberships.createdAt,
    })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.labId, labId))
    .orderBy(users.name);
}

/**
 * Adds a person to the lab, answering the same whether or not the e-mail has an account (no
 * account enumeration): an unknown e-mail gets a new account that joins at once (with the first
 * password given, or none for sign-in through the lab's identity provider); an existing account
 * gets an invitation in its inbox and joins only if that person accepts.
 */
export async function addLabMember(
  db: Db,
  actor: { id: string; memberships: Membership[] },
  input: { labId: string; email: string; name: string; role: Role; password?: string },
) {
  const lab = actingAdminLab(actor, input.labId);
  if (input.password !== undefined && input.password.length < 10) throw new ApiError("BAD_REQUEST", "A first password needs at least 10 characters.");
  const email = input.email.trim().toLowerCase();
  const answer = {
    email,
    message: `${email}: a new account joins ${lab.labName} at once; someone who already signs in to the hub gets an invitation in their inbox and joins when they accept it.`,
  };
  // Hashed either way, so an existing e-mail costs the same time as a new one.
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  const [user] = await db.select().from(users).where(eq(users.email, email)).limit(1);
  if (!user) {
    const [created] = await db
      .insert(users)
      .values({ email, name: input.name.trim() || email, passwordHash })
      .onConflictDoNothing()
      .returning();
    if (created) {
      await db.insert(memberships).values({ labId: lab.labId, userId: created.id, role: input.role });
      await recordAudit(db, {
        labId: lab.labId,
        actorUserId: actor.id,
        action: "member.create",
        targetType: "user",
        targetId: created.id,
        detail: { role: input.role },
      });
    }
    return answer;
  }
  const [existing] = await db
    .select()
    .from(memberships)
    .where(and(eq(memberships.labId, lab.labId), eq(memberships.userId, user.id)))
    .limit(1);
  if (existing) throw new ApiError("CONFLICT", `${email} is already a member of this lab.`);
  const [invitation] = await db
    .insert(labInvitations)
    .values({ labId: lab.labId, userId: user.id, role: input.role, invitedBy: actor.id })
    .onConflictDoNothing()
    .returning({ id: labInvitations.id });
  if (invitation) {
    await notify(db, [user.id], {
      kind: "invitation",
      title: `${lab.labName} invites you to join as ${input.role === "lab_admin" ? "lab administrator" : "pathologist"}`,
      link: "/inbox#invitations",
    });
    await recordAudit(db, {
      labId: lab.labId,
      actorUserId: actor.id,
      action: "member.invite",
      targetType: "user",
      targetId: user.id,
      detail: { role: input.role },
    });
  }
  return answer;
}

/** The lab an admin acts for, named explicitly and checked against their own admin memberships. */
function actingAdminLab(actor: { memberships: Membership[] }, labId: string): Membership {
  if (!actor.memberships.some((m) => m.role === "lab_admin")) throw new ApiError("FORBIDDEN", "Only a lab administrator can do this.");
  const lab = actor.memberships.find((m) => m.labId === labId && m.role === "lab_admin");
  if (!lab) throw notFound("Lab");
  return lab;
}

/** The invitations waiting for this user's answer. */
export async function listMyInvitations(db: Db, userId: string) {
  return db
    .select({ id: labInvitations.id, labName: labs.name, role: labInvitations.role, invitedAt: labInvitations.createdAt })
    .from(labInvitations)
    .innerJoin(labs, eq(labs.id, labInvitations.labId))
    .where(and(eq(labInvitations.userId, userId), eq(labInvitations.status, "pending")))
    .orderBy(desc(labInvitations.createdAt));
}

/** Accepts or declines one's own pending invitation (one compare-and-set); accepting makes one a member. */
export async function answerInvitation(db: Db, userId: string, invitationId: string, accept: boolean) {
  return db.transaction(async (tx) => {
    const [invitation] = await tx
      .update(labInvitations)
      .set({ status: accept ? "accepted" : "declined", respondedAt: new Date() })
      .where(and(eq(labInvitations.id, invitationId), eq(labInvitations.userId, userId), eq(labInvitations.status, "pending")))
      .returning();
    if (!invitation) throw notFound("Invitation");
    if (accept) await tx.insert(memberships).values({ labId: invitation.labId, userId, role: invitation.role }).onConflictDoNothing();
    await recordAudit(tx as unknown as Db, {
      labId: invitation.labId,
      actorUserId: userId,
      action: accept ? "member.accept" : "member.decline",
      targetType: "user",
      targetId: userId,
      detail: { role: invitation.role },
    });
    return { labId: invitation.labId, accepted: accept };
  });
}

/** Changes a member's role; the lab always keeps at least one administrator. */
export async function setLabMemberRole(db: Db, labId: string, userId: string, role: Role) {
  const members = await listLabMembers(db, labId);
  const member = members.find((m) => m.userId === userId);
  if (!member) throw notFound("Member");
  if (member.role === "lab_admin" && role !== "lab_admin" && members.filter((m) => m.role === "lab_admin").length === 1) {
    throw new ApiError("BAD_REQUEST", "The lab needs at least one administrator: make someone else administrator first.");
  }
  await db
    .update(memberships)
    .set({ role })
    .where(and(eq(memberships.labId, labId), eq(memberships.userId, userId)));
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
  const [member] = await db
    .select()
    .from(memberships)
    .where(and(eq(memberships.labId, labId), eq(memberships.userId, userId)))
    .limit(1);
  if (!member) throw notFound("Member");
  return { ended: await endUserSessions(db, userId, "signed-out-everywhere") };
}
