import { randomUUID } from "node:crypto";
import { codecsBlock, encodeJpeg } from "../codec/jpeg";
import { decodeJpegScaledInto, encodeHalvedYcc420, hasScaledJpegDecode, isYcc420, readJpegSize } from "../codec/turbojpeg";
import { WsiError, toWsiError } from "../errors";
import type { RgbImage } from "../image";
import type { Slide, SlideLevel } from "../slide";
import { type DeepZoomLevel, planDeepZoomLevels, planPasses, renderDzi } from "../deepzoom/plan";
import { LruTileCache, type TileCache, throwIfAborted } from "./cache";
import { checkJpegComplete, shrinkTileBlock } from "./pixels";

export interface DeepZoomTile {
  bytes: Uint8Array;
  contentType: "image/jpeg";
  passthrough: boolean;
}

export interface DeepZoomView {
  /** Deep Zoom XML descriptor (Format="jpeg", Overlap 0, TileSize, Size). */
  readonly dzi: string;
  /** The source's own tile size where it has square tiles (most tiles pass through), else 254. */
  readonly tileSize: number;
  readonly overlap: number;
  readonly width: number;
  readonly height: number;
  /** Deep Zoom levels are 0..maxLevel. */
  readonly maxLevel: number;
  /** Levels whose interior tiles are stored JPEG tiles (source or derived) sent without decoding. */
  readonly passthroughLevels: readonly number[];
  /** Levels the source lacks: what writeDerivedPyramid computes and stores. */
  readonly missingLevels: readonly number[];
  /**
   * One tile. NOT_FOUND for an address outside the pyramid, CORRUPT for a damaged source tile,
   * IO_ERROR ("cancelled") once `signal` aborts: reading stops when no other request waits for the tile.
   */
  getTile(level: number, col: number, row: number, signal?: AbortSignal): Promise<DeepZoomTile>;
  /** A tile's JPEG if the cache holds it (passthrough or computed), without I/O: a server answers it at once. */
  peekTile(level: number, col: number, row: number): Uint8Array | undefined;
}

export interface DeepZoomViewOptions {
  /** The slide's derived pyramid (a Slide opened from what writeDerivedPyramid wrote), when it exists. */
  derived?: Slide;
  /** Shared by the views of a process; default a private 64 MiB cache. */
  cache?: TileCache;
  /** Names the slide and pyramid version in the shared cache; default private to this view. */
  cacheKey?: string;
  /** JPEG quality of computed tiles, 1–100; default 80. */
  quality?: number;
  /**
   * Tiles one level below a stored JPEG level decoded at half size (libjpeg-turbo's DCT scaling,
   * when libturbojpeg is installed) instead of a full decode and a 2×2 box shrink: about as exact
   * (≥ 40 dB against the builder's tiles), much cheaper. Default true.
   */
  scaledDecode?: boolean;
}

/** Where a Deep Zoom level's pixels come from: a stored level of the source or the derived pyramid, or the level above. */
export type LevelSource = StoredSource | { kind: "computed" };
type StoredSource = { kind: "stored"; slide: Slide; tag: string; index: number; info: SlideLevel; passthrough: boolean };

// Decode buffers shared by all views (allocating ~200 KB per decode keeps the garbage collector
// busy): lent to one caller, given back after use; a few per size are kept.
const spares = new Map<number, Buffer[]>();
const lent = new WeakMap<Buffer, Buffer>();

function borrowBuffer(bytes: number): Buffer {
  return spares.get(bytes)?.pop() ?? Buffer.allocUnsafe(bytes);
}

/** Returns an image's buffer to the spares if it was lent (cached and other images are left alone). */
function giveBack(image: RgbImage): void {
  const into = lent.get(image.data);
  if (!into) return;
  lent.delete(image.data);
  let list = spares.get(into.length);
  if (!list) {
    list = [];
    spares.set(into.length, list);
  }
  if (list.length < 32) list.push(into);
}

/** Source tiles a computed tile may read when a derived pyramid offers a cheaper, slightly less exact way. */
const exactBudget = 256;

export function viewTileSize(slide: Slide): number {
  const base = slide.metadata.levels[0]!;
  return base.tileWidth === base.tileHeight && base.tileWidth >= 16 ? base.tileWidth : 254;
}

export function checkQuality(quality: number): number {
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new WsiError("INVALID_OPTIONS", `quality must be a whole number from 1 to 100 (got ${quality}).`);
  }
  return quality;
}

/** Every Deep Zoom level (index = level number) with the stored level it maps to, if any. */
export function planLevelSources(slide: Slide, tileSize: number, derived?: Slide): { levels: DeepZoomLevel[]; sources: LevelSource[] } {
  const { width, height } = slide.metadata;
  const levels = planDeepZoomLevels(width, height, tileSize).reverse();
  const sources: LevelSource[] = levels.map(() => ({ kind: "computed" }));
  const stored = (from: Slide, tag: string, info: SlideLevel): LevelSource => ({
    kind: "stored",
    slide: from,
    tag,
    index: info.index,
    info,
    passthrough: info.compression === "jpeg" && info.tileWidth === tileSize && info.tileHeight === tileSize,
  });
  for (const pass of planPasses([...levels].reverse(), slide.metadata.levels)) {
    sources[pass.levels[0]!.level] = stored(slide, "s", slide.metadata.levels[pass.sourceLevel]!);
  }
  for (const info of derived?.metadata.levels ?? []) {
    const level = levels.find((l) => l.width === info.width && l.height === info.height);
    if (level && sources[level.level]!.kind === "computed") sources[level.level] = stored(derived!, "d", info);
  }
  return { levels, sources };
}

/**
 * Deep Zoom over a slide without a pre-built pyramid. Tiles of levels the slide stores in the
 * same geometry are its JPEG tiles, untouched; edge tiles are cropped; the other levels are
 * halved from the level above, recursively, through a byte-bounded cache of decoded and encoded
 * tiles, so a low-resolution tile costs four reads of cached tiles, not thousands of source reads.
 * A computed tile one level below a stored one decodes four source tiles: that decode is most of
 * its cost. libjpeg-turbo's DCT scaling (decode at 1/2) and lossless crop (tjTransform, for edge
 * tiles) would cut it; @julusian/jpeg-turbo 2.3.0 exposes neither.
 */
export function openDeepZoomView(slide: Slide, options: DeepZoomViewOptions = {}): DeepZoomView {
  const tileSize = viewTileSize(slide);
  const quality = checkQuality(options.quality ?? 80);
  const cache = options.cache ?? new LruTileCache(64 * 2 ** 20);
  if (!(cache instanceof LruTileCache)) throw new WsiError("INVALID_OPTIONS", "the tile cache must come from createTileCache().");
  const prefix = `${options.cacheKey ?? randomUUID()}\u0000`;
  const { levels, sources } = planLevelSources(slide, tileSize, options.derived);
  const plain = options.derived ? planLevelSources(slide, tileSize).sources : sources;
  const maxLevel = levels.length - 1;
  const { width, height, name } = slide.metadata;
  const scaledDecode = (options.scaledDecode ?? true) && hasScaledJpegDecode();

  /** A decoded stored tile that several Deep Zoom tiles share (stored tiles of another size): cached. */
  const decodedShared = (source: StoredSource, col: number, row: number, signal: AbortSignal): Promise<RgbImage> => {
    const key = `${prefix}${source.tag}${source.index}/${col}/${row}`;
    const hit = cache.get<RgbImage>(key);
    if (hit) return Promise.resolve(hit);
    return cache.share(
      key,
      async (own) => {
        throwIfAborted(own);
        const image = await source.slide.decodeTile(source.index, col, row);
        cache.set(key, image, image.data.length);
        return image;
      },
      signal,
    );
  };

  // A stored tile in the Deep Zoom geometry serves one Deep Zoom tile, whose pixels or JPEG get
  // cached instead: it is decoded into a spare buffer, lent to one caller and given back after use.
  const decodeLent = async (source: StoredSource, col: number, row: number, signal: AbortSignal): Promise<RgbImage> => {
    throwIfAborted(signal);
    const into = borrowBuffer(source.info.tileWidth * source.info.tileHeight * 3);
    const image = await source.slide.decodeTile(source.index, col, row, into);
    if (image.data.buffer === into.buffer) lent.set(image.data, into);
    return image;
  };

  /** Pixels of a Deep Zoom tile's area on a stored level; beyond a level a pixel or two narrow, its edge repeats (as the builder does). */
  const storedPixels = async (source: StoredSource, x0: number, y0: number, w: number, h: number, signal: AbortSignal): Promise<RgbImage> => {
    const { tileWidth: tw, tileHeight: th, width: sw, height: sh } = source.info;
    if (tw === tileSize && th === tileSize && x0 + w <= sw && y0 + h <= sh) {
      const tile = await decodeLent(source, x0 / tileSize, y0 / tileSize, signal);
      return { width: w, height: h, stride: tile.width, data: tile.data };
    }
    const out = Buffer.allocUnsafe(w * h * 3);
    const xs = Array.from({ length: w }, (_, i) => Math.min(x0 + i, sw - 1));
    const ys = Array.from({ length: h }, (_, i) => Math.min(y0 + i, sh - 1));
    const cols = [...new Set(xs.map((x) => Math.floor(x / tw)))];
    const rows = [...new Set(ys.map((y) => Math.floor(y / th)))];
    const tiles = new Map<string, RgbImage>();
    await Promise.all(rows.flatMap((r) => cols.map(async (c) => tiles.set(`${c}/${r}`, await decodedShared(source, c, r, signal)))));
    for (let i = 0; i < h; i++) {
      const y = ys[i]!;
      for (let j = 0; j < w; ) {
        const x = xs[j]!;
        const tile = tiles.get(`${Math.floor(x / tw)}/${Math.floor(y / th)}`)!;
        // Copy the run of pixels that stays inside this source tile and the level.
        let run = 1;
        while (j + run < w && xs[j + run] === x + run && Math.floor((x + run) / tw) === Math.floor(x / tw)) run++;
        const from = ((y % th) * tile.width + (x % tw)) * 3;
        tile.data.copy(out, (i * w + j) * 3, from, from + run * 3);
        j += run;
      }
    }
    return { width: w, height: h, data: out };
  };

  const tileRect = (level: number, col: number, row: number) => {
    const l = levels[level]!;
    return { x: col * tileSize, y: row * tileSize, w: Math.min(tileSize, l.width - col * tileSize), h: Math.min(tileSize, l.height - row * tileSize) };
  };

  /**
   * Source tiles the exact computation of a tile reads at most: the tiles of the nearest finer
   * source level under it. Derived tiles are JPEG-decoded, so halving them drifts from the
   * builder's pixels; they are used only where the exact way would read too much.
   */
  const exactCost = (level: number, col: number, row: number): number => {
    let finer = level;
    while (plain[finer]!.kind !== "stored") finer++;
    const source = plain[finer] as StoredSource;
    const scale = 2 ** (finer - level) * tileSize;
    const x1 = Math.min((col + 1) * scale, levels[finer]!.width);
    const y1 = Math.min((row + 1) * scale, levels[finer]!.height);
    const across = Math.ceil(x1 / source.info.tileWidth) - Math.floor((col * scale) / source.info.tileWidth);
    const down = Math.ceil(y1 / source.info.tileHeight) - Math.floor((row * scale) / source.info.tileHeight);
    return across * down;
  };

  /**
   * A tile one level below a stored level in the view's geometry, whose ≤ 2 × 2 tiles there are
   * whole JPEG tiles: each decoded at half size by libjpeg-turbo (DCT scaling) straight into its
   * quarter of the result. Most of a computed tile's cost was the full decodes and the shrink
   * loop; this does neither. Undefined when it does not apply (edge tiles, other codecs, no
   * libturbojpeg): the caller shrinks full decodes instead.
   */
  /** Levels whose source tiles above are not YCbCr 4:2:0 (found once, then not read for halvedJpeg). */
  const notYcc420 = new Set<number>();

  /** The ≤ 2 × 2 whole JPEG tiles a tile one level below a stored level halves, and where each goes; undefined when they are not that. */
  const halfTiles = async (finer: LevelSource | undefined, level: number, col: number, row: number, signal: AbortSignal) => {
    if (!scaledDecode || finer?.kind !== "stored" || !finer.passthrough || tileSize % 2 !== 0) return undefined;
    const { w, h } = tileRect(level, col, row);
    const half = tileSize / 2;
    const cols = [2 * col, 2 * col + 1].filter((c) => (c + 1) * tileSize <= finer.info.width);
    const rows = [2 * row, 2 * row + 1].filter((r) => (r + 1) * tileSize <= finer.info.height);
    if (cols.length * half !== w || rows.length * half !== h) return undefined;
    const children = rows.flatMap((r, j) => cols.map((c, i) => ({ c, r, x: i * half, y: j * half })));
    const raws = await Promise.all(children.map(({ c, r }) => finer.slide.readRawTile(finer.index, c, r)));
    throwIfAborted(signal);
    if (raws.some((raw) => raw.kind !== "jpeg")) return undefined;
    const sizes = raws.map((raw) => readJpegSize(raw.bytes));
    if (sizes.some((s) => s.width !== tileSize || s.height !== tileSize)) return undefined;
    return { w, h, half, tiles: children.map((child, k) => ({ ...child, jpeg: raws[k]!.bytes, size: sizes[k]! })) };
  };

  /**
   * The JPEG of a tile one level below a stored level straight from its source tiles' YCbCr
   * planes (encodeHalvedYcc420: no colour conversion or chroma resampling either way), when they
   * are 4:2:0 like the tile; undefined otherwise: the tile is made from RGB pixels.
   */
  const halvedJpeg = async (level: number, col: number, row: number, signal: AbortSignal): Promise<Buffer | undefined> => {
    // As pixels() makes it: halved from the source level above (the exact way, ≤ 4 source tiles).
    // Checked before reading, so tiles that go the RGB way are not read twice.
    if (!codecsBlock() || quality >= 90 || plain[level]!.kind !== "computed" || (tileSize / 2) % 2 !== 0 || notYcc420.has(level)) return undefined;
    const parts = await halfTiles(plain[level + 1], level, col, row, signal);
    if (!parts) return undefined;
    if (!parts.tiles.every((t) => isYcc420(t.jpeg))) {
      notYcc420.add(level); // a level's tiles are coded alike: the RGB way from now on
      return undefined;
    }
    const places = parts.tiles.map((t) => ({ jpeg: t.jpeg, x: t.x, y: t.y, width: parts.half, height: parts.half }));
    return encodeHalvedYcc420(places, parts.w, parts.h, quality);
  };

  const halvedStored = async (
    finer: LevelSource | undefined,
    level: number,
    col: number,
    row: number,
    signal: AbortSignal,
    keep: boolean,
  ): Promise<RgbImage | undefined> => {
    const parts = await halfTiles(finer, level, col, row, signal);
    if (!parts) return undefined;
    const { w, h, tiles } = parts;
    // The tile asked for is encoded and its buffer given back; a kept one stays in the cache.
    const into = keep ? Buffer.allocUnsafe(w * h * 3) : borrowBuffer(w * h * 3);
    await Promise.all(tiles.map((t) => decodeJpegScaledInto(t.jpeg, 2, into, (t.y * w + t.x) * 3, w * 3, t.size)));
    const image = { width: w, height: h, data: into };
    if (!keep) lent.set(into, into);
    return image;
  };

  /**
   * A tile's pixels: halved from the level above, recursively, down from the level that stores
   * them. Pixels computed on the way to a lower tile are cached (`keep`): zooming in needs them;
   * those of the tile asked for are not, its JPEG is.
   */
  const pixels = (level: number, col: number, row: number, signal: AbortSignal, keep: boolean): Promise<RgbImage> => {
    const exact = !options.derived || exactCost(level, col, row) <= exactBudget;
    const source = exact ? plain[level]! : sources[level]!;
    const { x, y, w, h } = tileRect(level, col, row);
    if (source.kind === "stored") return storedPixels(source, x, y, w, h, signal);
    const key = `${prefix}${exact ? "p" : "q"}${level}/${col}/${row}`;
    const hit = cache.get<RgbImage>(key);
    if (hit) return Promise.resolve(hit);
    const finerSource = (exact ? plain : sources)[level + 1];
    // The tile asked for (not kept) is made outside the shared computation, in a lent buffer
    // only its own caller sees; pixels shared with other callers get a buffer of their own.
    if (!keep)
      return halvedStored(finerSource, level, col, row, signal, false).then(
        (fast) => fast ?? halvedOrShrunk(key, finerSource, level, col, row, signal, w, h, false),
      );
    return halvedOrShrunk(key, finerSource, level, col, row, signal, w, h, true);
  };

  const halvedOrShrunk = (
    key: string,
    finerSource: LevelSource | undefined,
    level: number,
    col: number,
    row: number,
    signal: AbortSignal,
    w: number,
    h: number,
    keep: boolean,
  ): Promise<RgbImage> =>
    cache.share(
      key,
      async (own) => {
        const fast = keep ? await halvedStored(finerSource, level, col, row, own, true) : undefined;
        if (fast) {
          cache.set(key, fast, fast.data.length);
          return fast;
        }
        const finer = levels[level + 1]!;
        const cols = [2 * col, 2 * col + 1].filter((c) => c < finer.cols);
        const rows = [2 * row, 2 * row + 1].filter((r) => r < finer.rows);
        const grid = await Promise.all(rows.map((r) => Promise.all(cols.map((c) => pixels(level + 1, c, r, own, true)))));
        throwIfAborted(own);
        const image = shrinkTileBlock(grid, w, h);
        grid.flat().forEach(giveBack);
        if (keep) cache.set(key, image, image.data.length);
        return image;
      },
      signal,
    );

  const checkAddress = (level: number, col: number, row: number) => {
    const l = Number.isInteger(level) && level >= 0 && level <= maxLevel ? levels[level]! : undefined;
    if (!l || !Number.isInteger(col) || !Number.isInteger(row) || col < 0 || row < 0 || col >= l.cols || row >= l.rows) {
      const shape = l ? `level ${level} has ${l.cols} × ${l.rows} tiles` : `levels are 0 to ${maxLevel}`;
      throw new WsiError("NOT_FOUND", `${name}: there is no Deep Zoom tile ${level}/${col}_${row} (${shape}).`);
    }
  };

  return {
    dzi: renderDzi({ width, height, tileSize, overlap: 0, format: "jpeg" }),
    tileSize,
    overlap: 0,
    width,
    height,
    maxLevel,
    passthroughLevels: sources.flatMap((s, level) => (s.kind === "stored" && s.passthrough ? [level] : [])),
    missingLevels: plain.flatMap((s, level) => (s.kind === "computed" ? [level] : [])),
    peekTile(level, col, row) {
      return cache.get<Uint8Array>(`${prefix}j${level}/${col}/${row}`);
    },
    async getTile(level, col, row, signal) {
      checkAddress(level, col, row);
      throwIfAborted(signal);
      const source = sources[level]!;
      const { x, y, w, h } = tileRect(level, col, row);
      const key = `${prefix}j${level}/${col}/${row}`;
      try {
        if (source.kind === "stored" && source.passthrough && w === tileSize && h === tileSize && x + w <= source.info.width && y + h <= source.info.height) {
          const hit = cache.get<Uint8Array>(key);
          if (hit) return { bytes: hit, contentType: "image/jpeg", passthrough: true };
          const raw = await source.slide.readRawTile(source.index, col, row);
          if (raw.kind === "jpeg") {
            checkJpegComplete(raw.bytes, `${source.slide.metadata.name}: level ${source.index} tile ${col},${row}`);
            // Kept like a computed tile (a viewer asks again on every pan back): a copy when it is a
            // view into a larger read, so the cache does not hold the larger buffer.
            const bytes = raw.bytes.byteLength === raw.bytes.buffer.byteLength ? raw.bytes : Uint8Array.prototype.slice.call(raw.bytes);
            cache.set(key, bytes, bytes.byteLength);
            return { bytes, contentType: "image/jpeg", passthrough: true };
          }
        }
        const hit = cache.get<Uint8Array>(key);
        if (hit) return { bytes: hit, contentType: "image/jpeg", passthrough: false };
        const bytes = await cache.share(
          key,
          async (own) => {
            let jpeg = await halvedJpeg(level, col, row, own);
            if (!jpeg) {
              const image = await pixels(level, col, row, own, false);
              throwIfAborted(own);
              jpeg = await encodeJpeg(image, quality);
              giveBack(image);
            }
            cache.set(key, jpeg, jpeg.length);
            return jpeg;
          },
          signal,
        );
        return { bytes, contentType: "image/jpeg", passthrough: false };
      } catch (error) {
        throw toWsiError(error, "CORRUPT", name);
      }
    },
  };
}
