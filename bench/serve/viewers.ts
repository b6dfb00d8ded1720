import { fetchTile } from "./http-client";
import type { DeepZoomLevel } from "@pathx/wsi";
/**
 * Simulated viewers: each sits at a level and tile, asks for a tile about every 50 ms (the
 * tiles of a field of view as it pans) and now and then zooms in or out. Bounded in time.
 */
export async function runViewers(options: { base: string; token: string; levels: DeepZoomLevel[]; viewers: number; seconds: number; rssMiB: () => number }) {
  // Smallest first, so stepping up the list zooms in (col, row double).
  const usable = options.levels.filter((l) => l.cols >= 4 && l.rows >= 4).sort((a, b) => a.level - b.level);
  const latencies: number[] = [];
  let errors = 0;
  const rssStart = options.rssMiB();
  let rssPeak = rssStart;
  // RSS each second: memory that only fills the tile caches (bounded by TILE_CACHE_MB) levels
  // off; a leak keeps climbing through the run's second half.
  const rssSeries: number[] = [];
  const sampler = setInterval(() => {
    const rss = options.rssMiB();
    rssSeries.push(rss);
    rssPeak = Math.max(rssPeak, rss);
  }, 1000);
  const until = Date.now() + options.seconds * 1000;
  await Promise.all(
    Array.from({ length: options.viewers }, async (_, viewer) => {
      let at = Math.floor(Math.random() * usable.length);
      let col = Math.floor(Math.random() * usable[at]!.cols);
      let row = Math.floor(Math.random() * usable[at]!.rows);
      await new Promise((r) => setTimeout(r, (viewer * 50) / options.viewers)); // spread the starts over one period
      while (Date.now() < until) {
        const tick = Date.now();
        const level = usable[at]!;
        const started = performance.now();
        const status = await fetchTile(`${options.base}/slide_files/${level.level}/${col}_${row}.jpeg?t=${options.token}`);
        if (status === 200) latencies.push(performance.now() - started);
        else errors++;
        // Pan a tile; one step in twenty zooms.
        const move = Math.random();
        if (move < 0.025 && at < usable.length - 1) {
          at++;
          col = Math.min(col * 2, usable[at]!.cols - 1);
          row = Math.min(row * 2, usable[at]!.rows - 1);
        } else if (move < 0.05 && at > 0) {
          at--;
          col = Math.floor(col / 2);
          row = Math.floor(row / 2);
        } else {
          col = Math.max(0, Math.min(level.cols - 1, col + Math.round(Math.random() * 2 - 1)));
          row = Math.max(0, Math.min(level.rows - 1, row + Math.round(Math.random() * 2 - 1)));
        }
        const wait = 50 - (Date.now() - tick);
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }),
  );
  clearInterval(sampler);
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  const rssHalf = rssSeries[Math.floor(rssSeries.length / 2)] ?? rssStart;
  return { requests: latencies.length + errors, errors, p50: pick(0.5), p99: pick(0.99), rssStart, rssHalf, rssEnd: options.rssMiB(), rssPeak, rssSeries };
}
