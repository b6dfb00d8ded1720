/**
 * Procedural tissue for demo slides: what a pathologist expects at a glance from an H&E (or
 * Ki-67) section — pink wavy stroma, purple nuclei in clusters and sparse areas, pale gaps —
 * and, at slide scale, separate fragments with glass between them.
 *
 * The texture is periodic (PERIOD px in x and y) so a slide of any size is tiled from one
 * rendered block without seams; the fragment outline is not periodic, so the slide as a whole
 * never repeats.
 */
export const PERIOD = 2048;

export type Stain = "he" | "ki67";
type Rgb = [number, number, number];

const palettes: Record<Stain, { glass: Rgb; stroma: Rgb; stromaDark: Rgb; gap: Rgb; nucleus: Rgb; positive: Rgb }> = {
  he: { glass: [243, 241, 245], stroma: [238, 170, 206], stromaDark: [204, 112, 168], gap: [247, 228, 240], nucleus: [72, 44, 128], positive: [72, 44, 128] },
  // Ki-67: haematoxylin counterstain (pale blue-grey), positive nuclei brown (DAB).
  ki67: { glass: [244, 243, 242], stroma: [232, 226, 230], stromaDark: [205, 196, 212], gap: [246, 244, 244], nucleus: [98, 96, 158], positive: [122, 70, 36] },
};

/** A hash of lattice point (i, j) to [0, 1). */
function hash(i: number, j: number, seed: number): number {
  let h = (Math.imul(i, 374761393) + Math.imul(j, 668265263) + Math.imul(seed, 2147483647)) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

const smooth = (t: number) => t * t * (3 - 2 * t);

/** Value noise in [0, 1), not periodic: lattice every `cell` units. */
function valueNoise(x: number, y: number, cell: number, seed: number): number {
  const fx = x / cell;
  const fy = y / cell;
  const i = Math.floor(fx);
  const j = Math.floor(fy);
  const tx = smooth(fx - i);
  const ty = smooth(fy - j);
  const a = hash(i, j, seed) + (hash(i + 1, j, seed) - hash(i, j, seed)) * tx;
  const b = hash(i, j + 1, seed) + (hash(i + 1, j + 1, seed) - hash(i, j + 1, seed)) * tx;
  return a + (b - a) * ty;
}

const NUCLEUS_CELL = 32; // px between nucleus centres (≈ 8 µm at 0.25 µm/px); divides PERIOD
const NUCLEUS_CELLS = PERIOD / NUCLEUS_CELL;

/** Periodic value noise from a precomputed lattice (a cell of 2^k px; PERIOD is a multiple). */
class Lattice {
  private readonly n: number;
  private readonly mask: number;
  private readonly values: Float32Array;
  constructor(
    private readonly cell: number,
    seed: number,
  ) {
    this.n = PERIOD / cell;
    this.mask = this.n - 1;
    this.values = new Float32Array(this.n * this.n);
    for (let j = 0; j < this.n; j++) for (let i = 0; i < this.n; i++) this.values[j * this.n + i] = hash(i, j, seed);
  }
  at(x: number, y: number): number {
    const fx = x / this.cell;
    const fy = y / this.cell;
    const fi = Math.floor(fx);
    const fj = Math.floor(fy);
    const tx = smooth(fx - fi);
    const ty = smooth(fy - fj);
    const i = fi & this.mask;
    const j = fj & this.mask;
    const i1 = (i + 1) & this.mask;
    const row = j * this.n;
    const row1 = ((j + 1) & this.mask) * this.n;
    const v = this.values;
    const a = v[row + i]! + (v[row + i1]! - v[row + i]!) * tx;
    const b = v[row1 + i]! + (v[row1 + i1]! - v[row1 + i]!) * tx;
    return a + (b - a) * ty;
  }
}

/** Everything about the texture that depends only on the seed, made once. */
function makeTexture(seed: number) {
  const cells = NUCLEUS_CELLS * NUCLEUS_CELLS;
  const nuclei = {
    x: new Float32Array(cells),
    y: new Float32Array(cells),
    radius: new Float32Array(cells),
    stretch: new Float32Array(cells),
    gate: new Float32Array(cells),
    positive: new Uint8Array(cells),
  };
  for (let j = 0; j < NUCLEUS_CELLS; j++) {
    for (let i = 0; i < NUCLEUS_CELLS; i++) {
      const k = j * NUCLEUS_CELLS + i;
      nuclei.x[k] = (0.15 + 0.7 * hash(i, j, seed + 8)) * NUCLEUS_CELL;
      nuclei.y[k] = (0.15 + 0.7 * hash(i, j, seed + 9)) * NUCLEUS_CELL;
      nuclei.radius[k] = 5 + 6 * hash(i, j, seed + 10);
      nuclei.stretch[k] = 0.6 + 0.8 * hash(i, j, seed + 11);
      nuclei.gate[k] = hash(i, j, seed + 7);
      nuclei.positive[k] = hash(i, j, seed + 12) < 0.3 ? 1 : 0;
    }
  }
  return {
    bend: new Lattice(256, seed + 1),
    fibre: new Lattice(64, seed + 2),
    shade: new Lattice(32, seed + 3),
    gapCoarse: new Lattice(128, seed + 4),
    gapFine: new Lattice(32, seed + 5),
    density: new Lattice(512, seed + 6),
    chromatin: new Lattice(4, seed + 13),
    nuclei,
  };
}
const textures = new Map<number, ReturnType<typeof makeTexture>>();

/**
 * Renders the periodic tissue texture for the rectangle (x0, y0, w, h) into an RGB buffer.
 * Coordinates are level-0 pixels; only their position modulo PERIOD matters.
 */
export function renderTissue(x0: number, y0: number, w: number, h: number, stain: Stain, seed = 1): Buffer {
  const p = palettes[stain];
  let tex = textures.get(seed);
  if (!tex) {
    tex = makeTexture(seed);
    textures.set(seed, tex);
  }
  const { nuclei } = tex;
  const out = Buffer.allocUnsafe(w * h * 3);
  const wrap = NUCLEUS_CELLS - 1;
  for (let y = 0; y < h; y++) {
    const gy = y0 + y;
    for (let x = 0; x < w; x++) {
      const gx = x0 + x;
      // Wavy collagen fibres: fine noise stretched along x, its rows bent by a coarse field.
      const bend = tex.bend.at(gx, gy) * 96;
      const shade = 0.35 * tex.fibre.at(gx, gy * 4 + bend * 4) + 0.65 * tex.shade.at(gx, gy);
      let r = p.stroma[0] + (p.stromaDark[0] - p.stroma[0]) * shade;
      let g = p.stroma[1] + (p.stromaDark[1] - p.stroma[1]) * shade;
      let b = p.stroma[2] + (p.stromaDark[2] - p.stroma[2]) * shade;
      // Pale gaps (oedema, fat, retraction) where a mid-scale field peaks.
      const gap = tex.gapCoarse.at(gx, gy) * 0.7 + tex.gapFine.at(gx, gy) * 0.3;
      if (gap > 0.72) {
        const t = Math.min(1, (gap - 0.72) / 0.05);
        r += (p.gap[0] - r) * t;
        g += (p.gap[1] - g) * t;
        b += (p.gap[2] - b) * t;
      }
      // Nuclei: one jittered centre per 32 px cell, present where the density field allows.
      const threshold = tex.density.at(gx, gy) * 1.3 - 0.05;
      const cx = Math.floor(gx / NUCLEUS_CELL);
      const cy = Math.floor(gy / NUCLEUS_CELL);
      let inside = 0;
      let positive = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const cj = (cy + dy) & wrap;
        for (let dx = -1; dx <= 1; dx++) {
          const k = cj * NUCLEUS_CELLS + ((cx + dx) & wrap);
          if (nuclei.gate[k]! > threshold) continue;
          const s = nuclei.stretch[k]!;
          const ex = (gx - ((cx + dx) * NUCLEUS_CELL + nuclei.x[k]!)) * s;
          const ey = (gy - ((cy + dy) * NUCLEUS_CELL + nuclei.y[k]!)) / s;
          const rr = nuclei.radius[k]!;
          const d2 = (ex * ex + ey * ey) / (rr * rr);
          if (d2 < 1) {
            const edge = Math.min(1, (1 - Math.sqrt(d2)) * 4);
            if (edge > inside) {
              inside = edge;
              positive = nuclei.positive[k]!;
            }
          }
        }
      }
      if (inside > 0) {
        const colour = stain === "ki67" && positive ? p.positive : p.nucleus;
        const chromatin = 0.8 + 0.4 * tex.chromatin.at(gx, gy);
        const t = inside * 0.9;
        r += (colour[0] * chromatin - r) * t;
        g += (colour[1] * chromatin - g) * t;
        b += (colour[2] * chromatin - b) * t;
      }
      const grain = (((Math.imul(gx, 73856093) ^ Math.imul(gy, 19349663)) >>> 0) % 9) - 4;
      const at = (y * w + x) * 3;
      out[at] = clamp(r + grain);
      out[at + 1] = clamp(g + grain);
      out[at + 2] = clamp(b + grain);
    }
  }
  return out;
}

const clamp = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/**
 * Where the tissue is on a width × height slide: > 0 inside a fragment, < 0 on glass. Several
 * lobed fragments with glass between them and ragged edges; not periodic.
 */
export function tissueOutline(width: number, height: number, seed = 1): (x: number, y: number) => number {
  const scale = Math.max(width, height);
  // Ragged edges at a scale that follows the slide's (never finer than 96 px: see writeSyntheticSlide).
  const raggedCell = Math.max(96, scale / 100);
  return (x, y) => {
    const u = x / scale;
    const v = y / scale;
    // Distance from the slide's centre keeps a margin of glass around the section.
    const cx = (x / width) * 2 - 1;
    const cy = (y / height) * 2 - 1;
    const margin = Math.max(Math.abs(cx), Math.abs(cy));
    const fragments = valueNoise(u, v, 0.22, seed + 20) * 0.75 + valueNoise(u, v, 0.06, seed + 21) * 0.25;
    const ragged = (valueNoise(x, y, raggedCell, seed + 22) - 0.5) * 0.06;
    return fragments - 0.48 + ragged - Math.max(0, margin - 0.8) * 1.5;
  };
}

/** The glass colour of a stain's slides (background between fragments). */
export function glassColour(stain: Stain): Rgb {
  return palettes[stain].glass;
}
