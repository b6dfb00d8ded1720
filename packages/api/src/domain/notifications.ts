import { type Db, schema } from "@pathx/db";

/** Puts one row in each user's in-app inbox. */
export async function notify(db: Db, userIds: string[], message: { kind: string; title: string; link: string }): Promise<void> {
  const unique = [...new Set(userIds)];
  if (unique.length === 0) return;
  await db.insert(schema.notifications).values(unique.map((userId) => ({ userId, ...message })));
}
