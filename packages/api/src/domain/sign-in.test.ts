import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { hashPassword, verifyPassword } from "./passwords";
import { THROTTLE, signInWithPassword, throttleDelaySeconds } from "./sign-in";
import { DUMMY_PASSWORD_HASH } from "./users";

let handle: DbHandle;
let clock: Date;
const now = () => clock;
const right = "the-right-password";

beforeAll(async () => {
  handle = await createTestDb();
  await handle.db.insert(schema.users).values({ email: "someone@lab.example", name: "Someone", passwordHash: await hashPassword(right) });
});
afterAll(() => handle.close());
beforeEach(async () => {
  clock = new Date("2026-12-01T10:00:00Z");
  await handle.db.delete(schema.signInThrottle);
});
const advance = (seconds: number) => (clock = new Date(clock.getTime() + seconds * 1000));
// The throttle is what is tested here: a quick stand-in for scrypt (the last test uses the real one).
const quickVerify = async (password: string, stored: string) => stored !== DUMMY_PASSWORD_HASH && password === right;
const attempt = (password: string, address = "192.0.2.7", email = "someone@lab.example") =>
  signInWithPassword(handle.db, { email, password, address }, { now, verify: quickVerify });

describe("password sign-in throttling", () => {
  it("throttles 50 wrong passwords, then refuses the right one until the delay has passed", async () => {
    const outcomes = [];
    for (let i = 0; i < 50; i++) outcomes.push((await attempt(`guess-${i}`)).outcome);
    expect(outcomes.slice(0, THROTTLE.accountFree + 1).every((o) => o === "mismatch")).toBe(true);
    expect(outcomes.slice(THROTTLE.accountFree + 1).every((o) => o === "throttled")).toBe(true);
    const refused = await attempt(right);
    expect(refused).toEqual({ outcome: "throttled", retryAfterSeconds: 2 });
    advance(1);
    expect((await attempt(right)).outcome).toBe("throttled");
    advance(1);
    expect((await attempt(right)).outcome).toBe("ok");
    // The account starts afresh after a right password.
    expect((await attempt("wrong")).outcome).toBe("mismatch");
  });

  it("grows the delay with each failure after the free ones, up to a cap", async () => {
    for (let i = 0; i <= THROTTLE.accountFree; i++) await attempt("wrong");
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await attempt("wrong");
      expect(answer.outcome).toBe("throttled");
      const wait = (answer as { retryAfterSeconds: number }).retryAfterSeconds;
      waits.push(wait);
      advance(wait);
      expect((await attempt("wrong")).outcome).toBe("mismatch");
    }
    expect(waits).toEqual([2, 4, 8, 16]);
    expect(throttleDelaySeconds(100, THROTTLE.accountFree)).toBe(THROTTLE.maxDelaySeconds);
  });

  it("throttles one address guessing many accounts, not the accounts from elsewhere", async () => {
    for (let i = 0; i <= THROTTLE.addressFree; i++) await attempt("wrong", "198.51.100.9", `nobody-${i}@lab.example`);
    expect((await attempt(right, "198.51.100.9")).outcome).toBe("throttled");
    expect((await attempt(right, "203.0.113.5")).outcome).toBe("ok");
  });

  it("meets a burst of parallel guesses with the delay too", async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(`guess-${i}`)));
    expect(outcomes.filter((o) => o.outcome === "mismatch")).toHaveLength(THROTTLE.accountFree + 1);
  });

  it("checks a password against a dummy hash for an unknown email, as long as for a known one", async () => {
    const verify = vi.fn(verifyPassword);
    const unknown = await signInWithPassword(handle.db, { email: "no-such-person@lab.example", password: "x" }, { verify, now });
    expect(unknown.outcome).toBe("mismatch");
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify).toHaveBeenCalledWith("x", DUMMY_PASSWORD_HASH);
    // The dummy hash has the real cost parameters, so its check takes as long as a real one.
    expect(DUMMY_PASSWORD_HASH.split("$").slice(0, 4)).toEqual((await hashPassword("y")).split("$").slice(0, 4));
  });
});
