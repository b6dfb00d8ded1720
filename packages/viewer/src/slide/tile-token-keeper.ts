import type { TileGrant } from "../types";

/** A token is renewed at about two thirds of its lifetime, but not more often than this. */
export const MIN_RENEWAL_DELAY_MS = 5_000;
/** Refused tiles ask for a new token at most this often. */
export const FAILURE_RENEWAL_GAP_MS = 10_000;

export function renewalDelay(expiresAt: number, now: number): number {
  return Math.max(MIN_RENEWAL_DELAY_MS, ((expiresAt - now) * 2) / 3);
}

/**
 * Keeps the tile service's token for one slide: asked when the viewer opens, renewed while it is
 * open, and renewed early when tiles are refused (token revoked for another of the user's grants,
 * or the laptop slept past its expiry). One renewal at a time; once the grant has ended the hub
 * refuses and the old token stays. Tile URLs read `token` when a tile is fetched, so a renewal
 * reloads nothing.
 */
export function createTileTokenKeeper(issue: () => Promise<TileGrant>, now: () => number = Date.now) {
  let token = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  let renewing: Promise<void> | undefined;
  let lastFailureRenewal = -Infinity;
  let stopped = false;
  const take = (grant: TileGrant) => {
    if (stopped) return;
    token = grant.token;
    clearTimeout(timer);
    timer = setTimeout(() => void renew(), renewalDelay(grant.expiresAt, now()));
  };
  const renew = () =>
    (renewing ??= issue()
      .then(take, () => {})
      .finally(() => {
        renewing = undefined;
      }));
  return {
    get token() {
      return token;
    },
    /** The first grant (its DZI address); rejects when the hub refuses. */
    async start(): Promise<TileGrant> {
      const grant = await issue();
      take(grant);
      return grant;
    },
    /** A tile was refused: renew, unless that was done in the last FAILURE_RENEWAL_GAP_MS. */
    tileFailed(): Promise<void> | undefined {
      if (now() - lastFailureRenewal < FAILURE_RENEWAL_GAP_MS) return undefined;
      lastFailureRenewal = now();
      return renew();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

export type TileTokenKeeper = ReturnType<typeof createTileTokenKeeper>;
