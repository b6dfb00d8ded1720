import { eq, sql } from "drizzle-orm";
import { type Db, schema } from "@pathx/db";
import { authenticateWithPassword } from "./users";

const { signInThrottle } = schema;

/**
 * Failures allowed before delays start, per key. An address is shared by a whole hospital
 * behind NAT, so it gets more room than one account.
 */
export const THROTTLE = { accountFree: 5, addressFree: 30, maxDelaySeconds: 15 * 60, forgetAfterHours: 24 } as const;

export type PasswordSignIn =
  | { outcome: "ok"; user: { id: string; email: string; name: string } }
  | { outcome: "mismatch" }
  | { outcome: "throttled"; retryAfterSeconds: number };

export interface PasswordSignInDeps {
  verify?: (password: string, stored: string) => Promise<boolean>;
  now?: () => Date;
}

/** The delay after `failures` failed attempts on a key that allows `free` of them. */
export function throttleDelaySeconds(failures: number, free: number): number {
  if (failures <= free) return 0;
  return Math.min(THROTTLE.maxDelaySeconds, 2 ** (failures - free));
}

export function throttleKeys(email: string, address: string | undefined): { key: string; free: number }[] {
  const keys: { key: string; free: number }[] = [{ key: `account:${email.trim().toLowerCase()}`, free: THROTTLE.accountFree }];
  if (address) keys.push({ key: `address:${address}`, free: THROTTLE.addressFree });
  return keys;
}

/**
 * Counts this attempt as a failure on each key before the password is checked (so a burst of
 * parallel guesses meets the delay too), unless a key is still locked: then nothing is checked.
 * Rows are locked in key order, so hubs counting the same keys at once take turns.
 */
async function takeAttempt(db: Db, keys: { key: string; free: number }[], now: Date): Promise<number> {
  return db.transaction(async (tx) => {
    let wait = 0;
    const rows: { key: string; free: number; failures: number }[] = [];
    for (const { key, free } of [...keys].sort((a, b) => a.key.localeCompare(b.key))) {
      await tx.insert(signInThrottle).values({ key, failures: 0, updatedAt: now }).onConflictDoNothing();
      const [row] = await tx.select().from(signInThrottle).where(eq(signInThrottle.key, key)).for("update");
      if (row!.lockedUntil && row!.lockedUntil > now) wait = Math.max(wait, Math.ceil((row!.lockedUntil.getTime() - now.getTime()) / 1000));
      const stale = now.getTime() - row!.updatedAt.getTime() > THROTTLE.forgetAfterHours * 3600_000;
      rows.push({ key, free, failures: stale ? 0 : row!.failures });
    }
    if (wait > 0) return wait;
    for (const row of rows) {
      const failures = row.failures + 1;
      const delay = throttleDelaySeconds(failures, row.free);
      await tx
        .update(signInThrottle)
        .set({ failures, lockedUntil: delay ? new Date(now.getTime() + delay * 1000) : null, updatedAt: now })
        .where(eq(signInThrottle.key, row.key));
    }
    return 0;
  });
}

/** A right password: the account starts afresh, and the address gets this attempt back. */
async function forgiveAttempt(db: Db, keys: { key: string; free: number }[]): Promise<void> {
  for (const { key, free } of keys) {
    if (key.startsWith("account:")) await db.delete(signInThrottle).where(eq(signInThrottle.key, key));
    else
      await db
        .update(signInThrottle)
        .set({
          failures: sql`greatest(${signInThrottle.failures} - 1, 0)`,
          lockedUntil: sql`case when ${signInThrottle.failures} - 1 <= ${free} then null else ${signInThrottle.lockedUntil} end`,
        })
        .where(eq(signInThrottle.key, key));
  }
}

/**
 * Email and password sign-in, throttled per account and per client address with growing
 * delays; unknown emails cost the same password check as known ones.
 */
export async function signInWithPassword(
  db: Db,
  attempt: { email: string; password: string; address?: string },
  deps: PasswordSignInDeps = {},
): Promise<PasswordSignIn> {
  const now = deps.now?.() ?? new Date();
  const email = attempt.email.trim().toLowerCase();
  const keys = throttleKeys(email, attempt.address);
  const wait = await takeAttempt(db, keys, now);
  if (wait > 0) return { outcome: "throttled", retryAfterSeconds: wait };
  const user = await authenticateWithPassword(db, email, attempt.password, deps.verify);
  if (!user) return { outcome: "mismatch" };
  await forgiveAttempt(db, keys);
  return { outcome: "ok", user };
}
