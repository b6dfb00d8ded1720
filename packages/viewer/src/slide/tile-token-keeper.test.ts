import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TileGrant } from "../types";
import { FAILURE_RENEWAL_GAP_MS, createTileTokenKeeper, renewalDelay } from "./tile-token-keeper";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A hub that issues numbered tokens valid for `lifetimeMs`, or refuses once `refuse` is set. */
function hub(lifetimeMs: number) {
  const state = { issued: 0, refuse: false };
  const issue = async (): Promise<TileGrant> => {
    if (state.refuse) throw new Error("grant ended");
    state.issued += 1;
    return { token: `t${state.issued}`, expiresAt: Date.now() + lifetimeMs, dziUrl: "https://tiles.example/s/x.dzi" };
  };
  return { state, issue };
}

describe("renewalDelay", () => {
  it("renews at two thirds of the lifetime, not sooner than 5 s", () => {
    expect(renewalDelay(90_000, 0)).toBe(60_000);
    expect(renewalDelay(3_000, 0)).toBe(5_000);
    expect(renewalDelay(0, 10_000)).toBe(5_000);
  });
});

describe("createTileTokenKeeper", () => {
  it("takes the first token and renews it before it expires", async () => {
    const { state, issue } = hub(90_000);
    const keeper = createTileTokenKeeper(issue);
    const grant = await keeper.start();
    expect(grant.token).toBe("t1");
    expect(keeper.token).toBe("t1");
    await vi.advanceTimersByTimeAsync(59_000);
    expect(keeper.token).toBe("t1");
    await vi.advanceTimersByTimeAsync(1_000);
    expect(keeper.token).toBe("t2");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(state.issued).toBe(3);
    keeper.stop();
  });

  it("keeps the old token when the hub refuses a renewal", async () => {
    const { state, issue } = hub(90_000);
    const keeper = createTileTokenKeeper(issue);
    await keeper.start();
    state.refuse = true;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(keeper.token).toBe("t1");
    keeper.stop();
  });

  it("renews on refused tiles at most once per gap, one renewal at a time", async () => {
    const { state, issue } = hub(90_000);
    const keeper = createTileTokenKeeper(issue);
    await keeper.start();
    await keeper.tileFailed();
    expect(keeper.token).toBe("t2");
    expect(keeper.tileFailed()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(FAILURE_RENEWAL_GAP_MS);
    await keeper.tileFailed();
    expect(state.issued).toBe(3);
    keeper.stop();
  });

  it("renews nothing once stopped", async () => {
    const { state, issue } = hub(90_000);
    const keeper = createTileTokenKeeper(issue);
    await keeper.start();
    keeper.stop();
    await vi.advanceTimersByTimeAsync(120_000);
    expect(state.issued).toBe(1);
  });
});
