import type { Db } from "@pathx/db";
import { signTileToken } from "@pathx/tile-token";
import { resolveSlideAccess } from "../access/slide-access";
import { ApiError, notFound } from "../errors";
import { recordRemoteView } from "./slides";
import type { Membership, SessionUser } from "./users";

/** How the hub hands out tile access: the tile service's public URL and the shared key. */
export interface TileTokenSettings {
  secret: string;
  /** Where browsers reach the tile service, e.g. `https://hub.example` (CloudFront, path /tiles/*) or `http://127.0.0.1:3001`. */
  publicUrl: string;
  lifetimeSeconds: number;
}

export interface TileAccessGrant {
  /** The Deep Zoom descriptor; its tiles are `…/slide_files/<level>/<col>_<row>.<format>`. */
  dziUrl: string;
  /** Goes with every request as `?t=`; the CDN leaves it out of the cache key. */
  token: string;
  expiresAt: number;
}

/** A slide's pyramid version: the last segment of its pyramid prefix (a new pyramid gets a new one). */
export const pyramidVersionOf = (tilesPrefix: string) => tilesPrefix.slice(tilesPrefix.lastIndexOf("/") + 1);

/**
 * A signed, expiring token for the slide's tiles, to a user who may see the slide now. It never
 * outlives the access it stands for (a grant's or a prior's expiry), so a renewal is refused
 * once that passed. Another lab's slide: one audited view per viewing session.
 */
export async function issueTileToken(
  db: Db,
  settings: TileTokenSettings,
  user: SessionUser,
  lab: Membership | undefined,
  slideId: string,
): Promise<TileAccessGrant> {
  const access = await resolveSlideAccess(db, user, slideId);
  if (!access) throw notFound("Slide");
  const { slide } = access;
  if (slide.status !== "ready" || !slide.tilesPrefix)
    throw new ApiError("CONFLICT", "The slide is not ready for viewing yet; this page updates by itself when it is.");
  const now = Date.now();
  const expiresAt = Math.min(now + settings.lifetimeSeconds * 1000, access.until?.getTime() ?? Number.POSITIVE_INFINITY);
  const version = pyramidVersionOf(slide.tilesPrefix);
  const token = signTileToken(settings.secret, { slideId, version, userId: user.id, issuedAt: now, expiresAt });
  await recordRemoteView(db, user, lab, access);
  return { dziUrl: `${settings.publicUrl.replace(/\/+$/, "")}/tiles/${slideId}/${version}/slide.dzi`, token, expiresAt };
}
