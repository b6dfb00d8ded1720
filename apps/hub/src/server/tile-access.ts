import { type TileAccess, loadSessionUser, tileAccessFor } from "@pathx/api";
import { currentUserId } from "@/auth";
import { getDeps } from "./deps";
import { sessionCookieOf } from "./session-cookie";

export type { TileAccess };

// Thumbnails of a case or dashboard page come in a burst; deciding each from scratch (session
// decryption, three queries) is wasted work. A decision is kept for a few seconds per session
// and slide, so a revoked grant stops working within TTL_MS. (Tiles: apps/tiles, by token.)
const TTL_MS = 10_000;
const MAX_ENTRIES = 20_000;
const decisions = new Map<string, { access: TileAccess; expires: number }>();

/** "unauthenticated", "denied" (also for missing slides: the caller answers 404), or the slide's tile location. */
export async function decideTileAccess(headers: Headers, slideId: string): Promise<"unauthenticated" | "denied" | TileAccess> {
  const session = sessionCookieOf(headers);
  const key = session ? `${session}|${slideId}` : undefined;
  const cached = key ? decisions.get(key) : undefined;
  if (cached && cached.expires > Date.now()) return cached.access;
  const userId = await currentUserId();
  if (!userId) return "unauthenticated";
  const { db } = await getDeps();
  const user = await loadSessionUser(db, userId);
  const access = user && (await tileAccessFor(db, user, slideId));
  if (!access) return "denied";
  // Only a tiled slide's decision is kept: one still arriving must get its pyramid as soon as it is ready.
  if (key && access.tilesPrefix) {
    if (decisions.size >= MAX_ENTRIES) decisions.clear();
    decisions.set(key, { access, expires: Date.now() + TTL_MS });
  }
  return access;
}
