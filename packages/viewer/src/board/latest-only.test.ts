import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { latestOnly } from "./latest-only";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("latestOnly", () => {
  it("sends the first value at once, then only the newest, one request at a time and at most every interval", async () => {
    const sent: number[] = [];
    let finish: () => void = () => {};
    const sender = latestOnly<number>(
      50,
      (v) => {
        sent.push(v);
        return new Promise<void>((resolve) => {
          finish = resolve;
        });
      },
      Date.now,
    );
    sender.push(1);
    sender.push(2);
    sender.push(3);
    expect(sent).toEqual([1]);
    // The first request is still running: nothing more goes out, however long it takes.
    await vi.advanceTimersByTimeAsync(200);
    expect(sent).toEqual([1]);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toEqual([1, 3]);
    finish();
    sender.push(4);
    await vi.advanceTimersByTimeAsync(0);
    // Less than 50 ms since 3 went out: 4 waits for the interval.
    expect(sent).toEqual([1, 3]);
    await vi.advanceTimersByTimeAsync(50);
    expect(sent).toEqual([1, 3, 4]);
  });

  it("drops what is pending when stopped", async () => {
    const sent: number[] = [];
    const sender = latestOnly<number>(
      50,
      async (v) => {
        sent.push(v);
      },
      Date.now,
    );
    sender.push(1);
    await vi.advanceTimersByTimeAsync(0);
    sender.push(2);
    sender.stop();
    await vi.advanceTimersByTimeAsync(100);
    expect(sent).toEqual([1]);
  });
});
