const niceLengths = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];

/** Picks a round length in µm whose bar is about 120 screen pixels long. */
export function scaleBarFor(micronsPerScreenPixel: number): { pixels: number; label: string } {
  const target = 120 * micronsPerScreenPixel;
  const length = niceLengths.reduce((best, l) => (Math.abs(l - target) < Math.abs(best - target) ? l : best), niceLengths[0]!);
  return { pixels: length / micronsPerScreenPixel, label: length >= 1000 ? `${length / 1000} mm` : `${length} µm` };
}
