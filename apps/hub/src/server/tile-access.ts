import type { TileAccess } from "@pathx/api";
import { currentUserId } from "@/auth";
import { getDeps } from "./deps";
import { decideTileAccessWith } from "./tile-decision";

export type { TileAccess };

/** "unauthenticated", "denied" (also for missing slides: the caller answers 404), or the slide's tile location. */
export function decideTileAccess(headers: Headers, slideId: string): Promise<"unauthenticated" | "denied" | TileAccess> {
  return decideTileAccessWith(headers, slideId, currentUserId, async () => (await getDeps()).db);
}
