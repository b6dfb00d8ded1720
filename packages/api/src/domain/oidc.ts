import { and, eq } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";

const { labs, memberships, oidcLinks, users } = schema;

/** Why a lab identity provider's assertion did not sign anyone in (shown to the person as a hint). */
export type OidcRefusal = "unverified-email" | "no-account" | "hub-admin" | "linked-elsewhere" | "unknown-lab";
export type OidcSignIn = { outcome: "ok"; userId: string } | { outcome: "refused"; reason: OidcRefusal };

export interface OidcClaims {
  sub?: unknown;
  email?: unknown;
  email_verified?: unknown;
}

/**
 * Who a lab's identity provider signs in. The provider is bound to one lab and signs in only
 * that lab's members; a person is matched by the provider's stable subject once linked (a
 * later change of e-mail at the provider keeps the same user), and linked on their first
 * sign-in with a verified e-mail (`email_verified` must be true; missing counts as unverified).
 * Hub administrators never sign in through a lab's provider.
 */
export async function resolveOidcSignIn(db: Db, provider: { issuer: string; labSlug: string }, claims: OidcClaims): Promise<OidcSignIn> {
  const refuse = (reason: OidcRefusal): OidcSignIn => ({ outcome: "refused", reason });
  const subject = typeof claims.sub === "string" && claims.sub.length > 0 ? claims.sub : undefined;
  const [lab] = await db.select({ id: labs.id }).from(labs).where(eq(labs.slug, provider.labSlug)).limit(1);
  if (!lab) return refuse("unknown-lab");
  if (!subject) return refuse("no-account");
  const [link] = await db
    .select({ userId: oidcLinks.userId, labId: oidcLinks.labId })
    .from(oidcLinks)
    .where(and(eq(oidcLinks.issuer, provider.issuer), eq(oidcLinks.subject, subject)))
    .limit(1);
  let userId = link?.userId;
  if (link && link.labId !== lab.id) return refuse("no-account");
  if (!userId) {
    if (claims.email_verified !== true) return refuse("unverified-email");
    if (typeof claims.email !== "string") return refuse("no-account");
    const [user] = await db.select({ id: users.id }).from(users).where(eq(users.email, claims.email.trim().toLowerCase())).limit(1);
    if (!user) return refuse("no-account");
    userId = user.id;
  }
  const [person] = await db
    .select({ isHubAdmin: users.isHubAdmin, member: memberships.userId })
    .from(users)
    .leftJoin(memberships, and(eq(memberships.userId, users.id), eq(memberships.labId, lab.id)))
    .where(eq(users.id, userId))
    .limit(1);
  if (!person) return refuse("no-account");
  if (person.isHubAdmin) return refuse("hub-admin");
  if (!person.member) return refuse("no-account");
  if (!link) {
    // First verified sign-in: link the subject. A user already linked to another subject of this
    // provider is not taken over by whoever now asserts their e-mail.
    const linked = await db
      .insert(oidcLinks)
      .values({ issuer: provider.issuer, subject, userId, labId: lab.id })
      .onConflictDoNothing()
      .returning({ userId: oidcLinks.userId });
    if (linked.length === 0) return refuse("linked-elsewhere");
  }
  return { outcome: "ok", userId };
}
