import { WsiError } from "../errors";

/** Decoded and encoded tiles of every view of a process, bounded by bytes (least recently used goes first). */
export interface TileCache {
  readonly bytes: number;
  clear(): void;
}

interface Flight {
  promise: Promise<unknown>;
  controller: AbortController;
  waiters: number;
}

export function cancelled(signal: AbortSignal): WsiError {
  return new WsiError("IO_ERROR", "the tile request was cancelled.", { cause: signal.reason });
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw cancelled(signal);
}

export class LruTileCache implements TileCache {
  private readonly entries = new Map<string, { value: unknown; bytes: number }>();
  private readonly flights = new Map<string, Flight>();
  private total = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.total;
  }

  get<T>(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map keeps insertion order: re-inserting makes this the most recently used.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value as T;
  }

  set(key: string, value: unknown, bytes: number): void {
    if (bytes > this.maxBytes / 4) return; // one huge entry would flush everything else
    const old = this.entries.get(key);
    if (old) {
      this.total -= old.bytes;
      this.entries.delete(key);
    }
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= entry.bytes;
    }
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }

  /**
   * Single flight: concurrent callers of one key share one computation. A caller whose signal
   * aborts stops waiting at once; the computation itself is aborted when no caller is left.
   */
  share<T>(key: string, compute: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    throwIfAborted(signal);
    let flight = this.flights.get(key);
    if (!flight) {
      const controller = new AbortController();
      const promise = compute(controller.signal).finally(() => {
        if (this.flights.get(key) === flight) this.flights.delete(key);
      });
      promise.catch(() => {}); // every waiter may have left; the rejection is theirs to see
      flight = { promise, controller, waiters: 0 };
      this.flights.set(key, flight);
    }
    const current = flight;
    current.waiters++;
    if (!signal) return current.promise as Promise<T>;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        current.waiters--;
        if (current.waiters === 0) current.controller.abort(signal.reason);
        reject(cancelled(signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      current.promise.then(
        (value) => {
          signal.removeEventListener("abort", onAbort);
          resolve(value as T);
        },
        (error: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(error);
        },
      );
    });
  }
}

export function createTileCache(options: { maxBytes: number }): TileCache {
  if (!Number.isFinite(options.maxBytes) || options.maxBytes < 0) {
    throw new WsiError("INVALID_OPTIONS", `the tile cache size must be a number of bytes ≥ 0 (got ${options.maxBytes}).`);
  }
  return new LruTileCache(options.maxBytes);
}
