import { and, eq, gt, sql } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { publishEvent } from "./bus";

/**
 * Ended access, over the event bus: every tile process refuses the tokens it covers that were
 * issued before it, and every hub process re-checks the topics of the user's open event streams.
 * Not a topic a browser may subscribe to (no rule in topics.ts matches it).
 */
export const REVOCATIONS_TOPIC = "access:revocations";

export interface Revocation {
  /** The user lost the slide (a grant ended). */
  pairs: { userId: string; slideId: string }[];
  /** Every tile token of these users (removed from a lab). */
  userIds: string[];
  /** Users whose open event streams must re-check their topics (besides those above), e.g. removed from a board. */
  streamUserIds: string[];
  /** When access ended, ms since the epoch (publisher's clock). */
  at: number;
}

export async function publishAccessRevocation(
  db: Db,
  change: { pairs?: { userId: string; slideId: string }[]; userIds?: string[]; streamUserIds?: string[] },
): Promise<void> {
  const pairs = change.pairs ?? [];
  const userIds = change.userIds ?? [];
  const streamUserIds = change.streamUserIds ?? [];
  if (pairs.length === 0 && userIds.length === 0 && streamUserIds.length === 0) return;
  await publishEvent(db, { topic: REVOCATIONS_TOPIC, payload: { pairs, userIds, streamUserIds, at: Date.now() } });
}

/** Every user a revocation concerns: whose open event streams re-check their topics. */
export function usersOf(revocation: Revocation): Set<string> {
  return new Set([...revocation.pairs.map((p) => p.userId), ...revocation.userIds, ...revocation.streamUserIds]);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A revocation event's payload, or undefined when it is not one. */
export function parseRevocation(payload: unknown): Revocation | undefined {
  const p = payload as Partial<Revocation> | null;
  if (!p || typeof p.at !== "number" || !Array.isArray(p.pairs) || !Array.isArray(p.userIds)) return undefined;
  const pairs = p.pairs.filter((x) => x && UUID.test(String(x.userId)) && UUID.test(String(x.slideId)));
  const userIds = p.userIds.filter((u) => UUID.test(String(u)));
  const streamUserIds = (Array.isArray(p.streamUserIds) ? p.streamUserIds : []).filter((u) => UUID.test(String(u)));
  return { pairs, userIds, streamUserIds, at: p.at };
}

/** The revocations of the last `withinMs`: what a tile process that just started must still honour. */
export async function readRecentRevocations(db: Db, withinMs: number): Promise<Revocation[]> {
  const { events } = schema;
  const rows = await db
    .select({ payload: events.payload })
    .from(events)
    .where(and(eq(events.topic, REVOCATIONS_TOPIC), gt(events.createdAt, sql`now() - make_interval(secs => ${withinMs / 1000})`)));
  return rows.map((r) => parseRevocation(r.payload)).filter((r): r is Revocation => Boolean(r));
}
