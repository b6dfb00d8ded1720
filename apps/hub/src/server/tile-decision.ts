import { type TileAccess, loadSessionUser, tileAccessFor } from "@pathx/api";
import type { Db } from "@pathx/db";
import { sessionCookieOf } from "./session-cookie";

// Thumbnails of a case or dashboard page come in a burst; deciding each from scratch (session
// decryption, three queries) is wasted work. A decision is kept for a few seconds per session
// and slide, so a revoked grant stops working within TTL_MS. (Tiles: apps/tiles, by token.)
export const TILE_DECISION_TTL_MS = 10_000;
const MAX_ENTRIES = 20_000;
const decisions = new Map<string, { access: TileAccess; expires: number }>();

/**
 * decideTileAccess once its collaborators are given: who is signed in (asked only when no
 * decision is kept for this session and slide) and the database.
 */
export async function decideTileAccessWith(
  headers: Headers,
  slideId: string,
  signedInUserId: () => Promise<string | undefined>,
  openDb: () => Promise<Db>,
): Promise<"unauthenticated" | "denied" | TileAccess> {
  const session = sessionCookieOf(headers);
  const key = session ? `${session}|${slideId}` : undefined;
  const cached = key ? decisions.get(key) : undefined;
  if (cached && cached.expires > Date.now()) return cached.access;
  const userId = await signedInUserId();
  if (!userId) return "unauthenticated";
  const db = await openDb();
  const user = await loadSessionUser(db, userId);
  const access = user && (await tileAccessFor(db, user, slideId));
  if (!access) return "denied";
  // Only a tiled slide's decision is kept: one still arriving must get its pyramid as soon as it is ready.
  if (key && access.tilesPrefix) {
    if (decisions.size >= MAX_ENTRIES) decisions.clear();
    decisions.set(key, { access, expires: Date.now() + TILE_DECISION_TTL_MS });
  }
  return access;
}
