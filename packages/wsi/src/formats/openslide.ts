import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import koffi from "koffi";
import { encodeJpeg } from "../codec/jpeg";
import { WsiError } from "../errors";
import type { RgbImage } from "../image";
import { limits } from "../limits";
import type { AssociatedReader, LevelReader, PathFormat, SlideParts } from "./level-reader";
import type { AssociatedName } from "./types";

/**
 * Everything no native reader claims goes through OpenSlide (Debian libopenslide0), called
 * through koffi. Tiles are read_region results (premultiplied ARGB) turned into RGB on white
 * and, for raw tiles, re-encoded as JPEG.
 */

const tileSide = 512;
const rawTileQuality = 90;
/** Extensions of the formats only OpenSlide reads here: named in the "install it" message. */
const openslideOnly = new Set([".mrxs", ".scn", ".bif", ".vms", ".vmu", ".svslide"]);
const installHint = "install the Debian package libopenslide0 (apt-get install libopenslide0) on this machine";

type Handle = unknown;
interface Api {
  detectVendor(path: string): string | null;
  open(path: string): Handle | null;
  close(h: Handle): void;
  error(h: Handle): string | null;
  levelCount(h: Handle): number;
  levelDimensions(h: Handle, level: number, w: [number], hh: [number]): void;
  levelDownsample(h: Handle, level: number): number;
  readRegion: { async: (h: Handle, dest: Buffer, x: number, y: number, level: number, w: number, hh: number, done: (error: unknown) => void) => void };
  propertyNames(h: Handle): unknown;
  propertyValue(h: Handle, name: string): string | null;
  associatedNames(h: Handle): unknown;
  associatedDimensions(h: Handle, name: string, w: [number], hh: [number]): void;
  readAssociated: { async: (h: Handle, name: string, dest: Buffer, done: (error: unknown) => void) => void };
}

const apis = new Map<string, Api | null>();

/** The OpenSlide library, or null when it is not installed. */
export function loadOpenslide(library = "libopenslide.so.0"): Api | null {
  if (apis.has(library)) return apis.get(library)!;
  let api: Api | null;
  try {
    const lib = koffi.load(library);
    const osr = koffi.pointer(koffi.opaque("openslide_t"));
    api = {
      detectVendor: lib.func("const char *openslide_detect_vendor(const char *filename)"),
      open: lib.func("openslide_open", osr, ["const char *"]),
      close: lib.func("openslide_close", "void", [osr]),
      error: lib.func("openslide_get_error", "const char *", [osr]),
      levelCount: lib.func("openslide_get_level_count", "int32_t", [osr]),
      levelDimensions: lib.func("openslide_get_level_dimensions", "void", [
        osr,
        "int32_t",
        koffi.out(koffi.pointer("int64_t")),
        koffi.out(koffi.pointer("int64_t")),
      ]),
      levelDownsample: lib.func("openslide_get_level_downsample", "double", [osr, "int32_t"]),
      readRegion: lib.func("openslide_read_region", "void", [osr, "void *", "int64_t", "int64_t", "int32_t", "int64_t", "int64_t"]),
      propertyNames: lib.func("openslide_get_property_names", "void *", [osr]),
      propertyValue: lib.func("openslide_get_property_value", "const char *", [osr, "const char *"]),
      associatedNames: lib.func("openslide_get_associated_image_names", "void *", [osr]),
      associatedDimensions: lib.func("openslide_get_associated_image_dimensions", "void", [
        osr,
        "const char *",
        koffi.out(koffi.pointer("int64_t")),
        koffi.out(koffi.pointer("int64_t")),
      ]),
      readAssociated: lib.func("openslide_read_associated_image", "void", [osr, "const char *", "void *"]),
    } as unknown as Api;
  } catch {
    api = null;
  }
  apis.set(library, api);
  return api;
}

/** A NULL-terminated `const char * const *` as strings. */
function stringList(pointer: unknown): string[] {
  const out: string[] = [];
  if (!pointer) return out;
  for (let i = 0; i < 10_000; i++) {
    const value = koffi.decode(pointer, i * 8, "const char *") as string | null;
    if (value === null) break;
    out.push(value);
  }
  return out;
}

function callAsync(run: (done: (error: unknown) => void) => void): Promise<void> {
  return new Promise((resolve, reject) => run((error) => (error ? reject(error) : resolve())));
}

/** Premultiplied ARGB (little-endian words: B, G, R, A bytes) to RGB over white, in place order. */
function argbToRgb(argb: Buffer, pixels: number): Buffer {
  const out = Buffer.allocUnsafe(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const a = argb[i * 4 + 3]!;
    const b = argb[i * 4]!,
      g = argb[i * 4 + 1]!,
      r = argb[i * 4 + 2]!;
    if (a === 255) {
      out[i * 3] = r;
      out[i * 3 + 1] = g;
      out[i * 3 + 2] = b;
    } else {
      // Premultiplied: colour + (1 − alpha) × white. Transparent (no scan there) becomes white glass.
      const rest = 255 - a;
      out[i * 3] = Math.min(255, r + rest);
      out[i * 3 + 1] = Math.min(255, g + rest);
      out[i * 3 + 2] = Math.min(255, b + rest);
    }
  }
  return out;
}

function checkError(osr: Api, handle: Handle, name: string): void {
  const message = osr.error(handle);
  if (message) throw new WsiError("CORRUPT", `${name}: OpenSlide cannot read it: ${message}.`);
}

function openslideLevel(osr: Api, handle: Handle, name: string, level: number): LevelReader {
  const w: [number] = [0],
    h: [number] = [0];
  osr.levelDimensions(handle, level, w, h);
  const width = Number(w[0]),
    height = Number(h[0]);
  const downsample = osr.levelDownsample(handle, level);
  const decode = async (col: number, row: number): Promise<RgbImage> => {
    const tw = Math.min(tileSide, width - col * tileSide);
    const th = Math.min(tileSide, height - row * tileSide);
    const argb = Buffer.alloc(tw * th * 4);
    const x = Math.round(col * tileSide * downsample),
      y = Math.round(row * tileSide * downsample);
    await callAsync((done) => osr.readRegion.async(handle, argb, x, y, level, tw, th, done));
    checkError(osr, handle, name);
    return { width: tw, height: th, data: argbToRgb(argb, tw * th) };
  };
  return {
    width,
    height,
    tileWidth: tileSide,
    tileHeight: tileSide,
    compression: "openslide",
    decode,
    readRaw: async (col, row) => ({ kind: "jpeg", bytes: await encodeJpeg(await decode(col, row), rawTileQuality) }),
  };
}

function openslideAssociated(osr: Api, handle: Handle, name: string, which: string): AssociatedReader {
  const w: [number] = [0],
    h: [number] = [0];
  osr.associatedDimensions(handle, which, w, h);
  const width = Number(w[0]),
    height = Number(h[0]);
  return {
    width,
    height,
    compression: "openslide",
    async read() {
      if (width * height > limits.maxAssociatedPixels)
        throw new WsiError("TOO_LARGE", `${name}: the ${which} image is ${width} × ${height}; refusing to decode it.`);
      const argb = Buffer.alloc(width * height * 4);
      await callAsync((done) => osr.readAssociated.async(handle, which, argb, done));
      checkError(osr, handle, name);
      return { width, height, data: argbToRgb(argb, width * height) };
    },
  };
}

/** MRXS is the .mrxs file plus a folder of the same name beside it: say so when the folder is missing. */
function checkCompanions(path: string): void {
  if (extname(path).toLowerCase() !== ".mrxs") return;
  const folder = join(dirname(path), basename(path, extname(path)));
  if (!existsSync(join(folder, "Slidedat.ini"))) {
    throw new WsiError(
      "NOT_FOUND",
      `${basename(path)}: its data folder ${basename(folder)}/ (with Slidedat.ini) is missing; an MRXS slide is the .mrxs file plus that folder beside it, so copy both.`,
    );
  }
}

/** `library` is for tests of the "not installed" answer. */
export async function openWithOpenslide(path: string, library?: string): Promise<SlideParts> {
  const name = basename(path);
  checkCompanions(path);
  const osr = loadOpenslide(library);
  if (!osr) throw new WsiError("UNSUPPORTED_FORMAT", `${name}: reading this format needs OpenSlide, which is not installed; ${installHint}.`);
  const vendor = osr.detectVendor(path);
  if (!vendor) throw new WsiError("UNSUPPORTED_FORMAT", `${name}: not a slide format pathx or OpenSlide recognises.`);
  const handle = osr.open(path);
  if (!handle) throw new WsiError("UNSUPPORTED_FORMAT", `${name}: OpenSlide recognises it as ${vendor} but cannot open it.`);
  try {
    checkError(osr, handle, name);
    const levels = Array.from({ length: osr.levelCount(handle) }, (_, level) => openslideLevel(osr, handle, name, level));
    const properties: Record<string, string> = {};
    for (const key of stringList(osr.propertyNames(handle))) {
      const value = osr.propertyValue(handle, key);
      if (value !== null && value.length <= 10_000) properties[key] = value;
    }
    const associated: Partial<Record<AssociatedName, AssociatedReader>> = {};
    for (const which of stringList(osr.associatedNames(handle))) {
      if (which === "label" || which === "macro" || which === "thumbnail") associated[which] = openslideAssociated(osr, handle, name, which);
    }
    const number = (key: string) => (Number(properties[key]) > 0 ? Number(properties[key]) : undefined);
    return {
      format: "openslide",
      vendor,
      bigTiff: false,
      fileSize: (await stat(path)).size,
      levels,
      associated,
      mppX: number("openslide.mpp-x"),
      mppY: number("openslide.mpp-y"),
      objectivePower: number("openslide.objective-power"),
      properties,
      close: async () => osr.close(handle),
    };
  } catch (error) {
    osr.close(handle);
    throw error;
  }
}

/** Vendors a native reader here handles itself; any other vendor OpenSlide sees wins over the generic TIFF reading. */
const nativeVendors = new Set(["aperio", "generic-tiff", "hamamatsu"]);

export const openslideFormat: PathFormat = {
  name: "openslide",
  async claims(path, isFolder) {
    if (isFolder) return false;
    const osr = loadOpenslide();
    if (!osr) return openslideOnly.has(extname(path).toLowerCase()); // to say what to install
    if (extname(path).toLowerCase() === ".mrxs") return true; // to say the folder is missing
    return osr.detectVendor(path) !== null;
  },
  open: (path) => openWithOpenslide(path),
};

/** True when OpenSlide knows a vendor for this TIFF that the native TIFF readers would only read generically. */
export async function isOpenslideVendorTiff(path: string): Promise<boolean> {
  const vendor = loadOpenslide()?.detectVendor(path);
  return !!vendor && !nativeVendors.has(vendor);
}
