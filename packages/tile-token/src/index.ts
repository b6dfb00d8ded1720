import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A tile token: `<slide>.<version>.<user>.<issuedMs>.<expiresMs>.<hmac>`, the HMAC-SHA256 (hex)
 * of everything before the last dot under the hub's key. Plain dot-separated fields so that
 * the CDN edge function (terraform/edge/tile-token-check.js) checks it the same way without
 * base64 or JSON.
 */
export interface TileTokenPayload {
  slideId: string;
  /** The pyramid version the token is for: tile URLs name it. */
  version: string;
  userId: string;
  /** Milliseconds since the epoch: a revocation refuses tokens issued before it. */
  issuedAt: number;
  expiresAt: number;
}

export type TileTokenCheck = { ok: true; payload: TileTokenPayload } | { ok: false; reason: "malformed" | "forged" | "expired" | "other-slide" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VERSION = /^[a-z0-9]{1,40}$/;
const MILLIS = /^\d{13}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

export const isUuid = (value: string) => UUID.test(value);
export const isPyramidVersion = (value: string) => VERSION.test(value);

const sign = (secret: string, body: string) => createHmac("sha256", secret).update(body).digest("hex");

export function signTileToken(secret: string, payload: TileTokenPayload): string {
  if (!isUuid(payload.slideId) || !isUuid(payload.userId) || !isPyramidVersion(payload.version))
    throw new Error("tile token: slide, user or version is malformed");
  const body = [payload.slideId, payload.version, payload.userId, Math.floor(payload.issuedAt), Math.floor(payload.expiresAt)].join(".");
  return `${body}.${sign(secret, body)}`;
}

/**
 * Checks a token for one slide and pyramid version. Order matters for the answer only, not
 * for safety: nothing of the payload is trusted before the signature matched.
 */
export function verifyTileToken(secret: string, token: string, expect: { slideId: string; version: string; now?: number }): TileTokenCheck {
  if (token.length > 256) return { ok: false, reason: "malformed" };
  const parts = token.split(".");
  if (parts.length !== 6) return { ok: false, reason: "malformed" };
  const [slideId, version, userId, issued, expires, signature] = parts as [string, string, string, string, string, string];
  if (!isUuid(slideId) || !isPyramidVersion(version) || !isUuid(userId) || !MILLIS.test(issued) || !MILLIS.test(expires) || !SIGNATURE.test(signature)) {
    return { ok: false, reason: "malformed" };
  }
  const wanted = Buffer.from(sign(secret, parts.slice(0, 5).join(".")), "hex");
  if (!timingSafeEqual(wanted, Buffer.from(signature, "hex"))) return { ok: false, reason: "forged" };
  if (slideId !== expect.slideId || version !== expect.version) return { ok: false, reason: "other-slide" };
  if (Number(expires) <= (expect.now ?? Date.now())) return { ok: false, reason: "expired" };
  return { ok: true, payload: { slideId, version, userId, issuedAt: Number(issued), expiresAt: Number(expires) } };
}

/**
 * Revocations as every tile process keeps them: a grant that ended refuses the tokens of that
 * user (for one slide, or for every slide) issued up to the moment it ended. Entries older
 * than the longest token lifetime can refuse nothing any more and are dropped.
 */
export interface RevocationList {
  add(entry: { userId: string; slideId?: string; at: number }): void;
  isRevoked(payload: Pick<TileTokenPayload, "userId" | "slideId" | "issuedAt">): boolean;
  size(): number;
}

export function createRevocationList(options: { keepMs: number; now?: () => number }): RevocationList {
  const now = options.now ?? Date.now;
  const until = new Map<string, number>();
  const prune = () => {
    const oldest = now() - options.keepMs;
    for (const [key, at] of until) if (at < oldest) until.delete(key);
  };
  let added = 0;
  return {
    add({ userId, slideId, at }) {
      const key = `${userId}|${slideId ?? "*"}`;
      until.set(key, Math.max(until.get(key) ?? 0, at));
      if (++added % 1000 === 0) prune();
    },
    isRevoked({ userId, slideId, issuedAt }) {
      if (until.size === 0) return false;
      const forSlide = until.get(`${userId}|${slideId}`);
      const forUser = until.get(`${userId}|*`);
      return (forSlide !== undefined && issuedAt <= forSlide) || (forUser !== undefined && issuedAt <= forUser);
    },
    size: () => until.size,
  };
}
