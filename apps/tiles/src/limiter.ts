/** Thrown when a request waited or worked longer than allowed, or the line was full. */
export class BusyError extends Error {
  constructor(readonly kind: "timeout" | "overloaded") {
    super(kind === "timeout" ? "timed out" : "overloaded");
  }
}

export interface Limiter {
  /** Runs `work` when a place is free; rejects with BusyError past `timeoutMs` (the work's signal is aborted). */
  run<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  readonly active: number;
  readonly waiting: number;
}

/**
 * Bounded concurrency with a deadline per request: every request answers by its deadline,
 * never hangs. A request that timed out gives its place back at once (its work is aborted),
 * so a store that hung for a while does not keep the service busy after it recovers.
 */
export function createLimiter(concurrency: number, queueLimit: number): Limiter {
  let active = 0;
  const queue: (() => void)[] = [];
  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    run<T>(timeoutMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
      if (active >= concurrency && queue.length >= queueLimit) return Promise.reject(new BusyError("overloaded"));
      const controller = new AbortController();
      return new Promise<T>((resolve, reject) => {
        let settled = false;
        let holding = false;
        const release = () => {
          if (!holding) return;
          holding = false;
          active--;
          queue.shift()?.();
        };
        const finish = (fn: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          release();
          fn();
        };
        const enter = () => {
          active++;
          holding = true;
          work(controller.signal).then(
            (value) => finish(() => resolve(value)),
            (error: unknown) => finish(() => reject(error)),
          );
        };
        const timer = setTimeout(() => {
          const at = queue.indexOf(enter);
          if (at >= 0) queue.splice(at, 1);
          controller.abort(new BusyError("timeout"));
          finish(() => reject(new BusyError("timeout")));
        }, timeoutMs);
        if (active < concurrency) enter();
        else queue.push(enter);
      });
    },
  };
}
