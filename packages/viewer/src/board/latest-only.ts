/**
 * Sends only the newest value, one request at a time and at most every `intervalMs`: a slow
 * request never queues stale values behind it, and values arrive in order.
 */
export function latestOnly<T>(intervalMs: number, send: (value: T) => Promise<void>, now: () => number = () => performance.now()) {
  let pending: { value: T } | undefined;
  let busy = false;
  let last = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const pump = () => {
    if (busy || !pending) return;
    const wait = last + intervalMs - now();
    if (wait > 0) {
      timer ??= setTimeout(() => {
        timer = undefined;
        pump();
      }, wait);
      return;
    }
    const { value } = pending;
    pending = undefined;
    busy = true;
    last = now();
    void send(value).finally(() => {
      busy = false;
      pump();
    });
  };
  return {
    push(value: T) {
      pending = { value };
      pump();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}

export type LatestOnly<T> = ReturnType<typeof latestOnly<T>>;
