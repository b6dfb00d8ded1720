import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";

const { sessions } = schema;

export type SessionEndReason = "signed-out" | "member-removed" | "signed-out-everywhere";

/** Records a new sign-in; its id goes into the session token. */
export async function startSession(db: Db, input: { userId: string; method: string; maxAgeSeconds: number; now?: Date }): Promise<string> {
  const now = input.now ?? new Date();
  const [row] = await db
    .insert(sessions)
    .values({ userId: input.userId, method: input.method, createdAt: now, expiresAt: new Date(now.getTime() + input.maxAgeSeconds * 1000) })
    .returning({ id: sessions.id });
  return row!.id;
}

/** The session's user while it is neither ended nor expired; checked on every request. */
export async function activeSessionUser(db: Db, sessionId: string, now = new Date()): Promise<string | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(sessionId)) return undefined;
  const [row] = await db
    .select({ userId: sessions.userId })
    .from(sessions)
    .where(and(eq(sessions.id, sessionId), isNull(sessions.endedAt), gt(sessions.expiresAt, now)))
    .limit(1);
  return row?.userId;
}

export async function endSession(db: Db, sessionId: string, reason: SessionEndReason = "signed-out"): Promise<void> {
  await db
    .update(sessions)
    .set({ endedAt: sql`now()`, endReason: reason })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.endedAt)));
}

/** Ends every open session of the user (all hubs see it at their next request); how many ended. */
export async function endUserSessions(db: Db, userId: string, reason: SessionEndReason): Promise<number> {
  const ended = await db
    .update(sessions)
    .set({ endedAt: sql`now()`, endReason: reason })
    .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt)))
    .returning({ id: sessions.id });
  return ended.length;
}
