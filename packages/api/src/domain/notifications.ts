import { and, count, desc, eq, inArray, isNull } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { publishEvents } from "../events/bus";

const { notifications } = schema;

/** A user's inbox changes: their open pages update the unread count (from any hub process). */
export const inboxTopic = (userId: string) => `inbox:${userId}`;

/** One inbox entry per user: a request, a reply, a board agenda. */
export async function notify(db: Db, userIds: string[], entry: { kind: string; title: string; link: string }) {
  const unique = [...new Set(userIds)];
  if (unique.length === 0) return;
  await db.transaction(async (tx) => {
    await tx.insert(notifications).values(unique.map((userId) => ({ userId, ...entry, title: entry.title.slice(0, 300) })));
    await publishEvents(
      tx as unknown as Db,
      unique.map((userId) => ({ topic: inboxTopic(userId), labId: null, payload: { kind: entry.kind } })),
    );
  });
}

export async function listInbox(db: Db, userId: string, limit = 50) {
  return db.select().from(notifications).where(eq(notifications.userId, userId)).orderBy(desc(notifications.createdAt)).limit(limit);
}

export async function countUnread(db: Db, userId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), isNull(notifications.readAt)));
  return Number(row?.n ?? 0);
}

/**
 * Marks entries read; only the user's own: those with the given ids, those pointing to the given
 * hub path (the page was opened directly, not through the inbox), or all without either.
 */
export async function markRead(db: Db, userId: string, which: { ids?: string[]; link?: string } = {}) {
  await db
    .update(notifications)
    .set({ readAt: new Date() })
    .where(
      and(
        eq(notifications.userId, userId),
        isNull(notifications.readAt),
        which.ids ? inArray(notifications.id, which.ids) : undefined,
        which.link !== undefined ? eq(notifications.link, which.link) : undefined,
      ),
    );
}
