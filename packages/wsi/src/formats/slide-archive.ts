import { createReadStream } from "node:fs";
import { mkdir, open, readFile, readdir, stat } from "node:fs/promises";
import { basename, dirname, extname, join } from "node:path";
import { WsiError } from "../errors";
import type { AssociatedName } from "./types";

/**
 * Slides that are several files travel as one upload packed as one uncompressed POSIX tar (the
 * JPEG data gains nothing from compression), written the same way every time (fixed modes and
 * times, sorted names) so that packing a slide twice gives the same bytes, hence the same SHA-256:
 * - MRXS (`<name>.mrxs.tar`): the `.mrxs` file and the folder of the same name beside it;
 * - Hamamatsu VMS (`<name>.vms.tar`): the `.vms` key file and the JPEGs (and optimisation file)
 *   it names, all beside it.
 * The slide's own file is the archive's first entry.
 */
export const SLIDE_ARCHIVE = /\.(mrxs|vms)\.tar$/i;
export const isSlideArchive = (fileName: string) => SLIDE_ARCHIVE.test(fileName);
const SLIDE_FILE = /^[^/]+\.(mrxs|vms)$/i;
/** The slide file's kind an archive's name promises (`x.vms.tar` holds a `.vms`). */
const kindOf = (name: string) => /\.(mrxs|vms)(\.tar)?$/i.exec(name)?.[1]?.toLowerCase();
/** A slide that is several files and travels as one archive (writeSlideArchive): `.mrxs` or `.vms`. */
export const isArchivedSlideFile = (path: string) => /\.(mrxs|vms)$/i.test(path);

const BLOCK = 512;
const MAX_ENTRIES = 10_000;
const MAX_ENTRY_BYTES = 8 ** 11 - 1; // the ustar size field: 11 octal digits
/** What a label or macro left out of the archive is renamed to in Slidedat.ini: OpenSlide no longer finds it. */
const REMOVED = "_RemovedByPathx";
const pictureValues: Partial<Record<AssociatedName, string>> = { label: "ScanDataLayer_SlideBarcode", macro: "ScanDataLayer_SlideThumbnail" };

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function tarHeader(path: string, size: number): Buffer {
  const header = Buffer.alloc(BLOCK);
  let name = path;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    prefix = dirname(path);
    name = basename(path);
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new WsiError("INVALID_OPTIONS", `${path}: the name is too long to pack.`);
  }
  if (size > MAX_ENTRY_BYTES) throw new WsiError("TOO_LARGE", `${path}: larger than 8 GiB; it cannot be packed as one tar entry.`);
  header.write(name, 0, 100, "utf8");
  header.write(octal(0o644, 8), 100, "latin1");
  header.write(octal(0, 8), 108, "latin1");
  header.write(octal(0, 8), 116, "latin1");
  header.write(octal(size, 12), 124, "latin1");
  header.write(octal(0, 12), 136, "latin1");
  header.write("        ", 148, "latin1");
  header.write("0", 156, "latin1");
  header.write("ustar\0", 257, "latin1");
  header.write("00", 263, "latin1");
  header.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
  return header;
}

/** Slidedat.ini as groups of keys (GKeyFile syntax: `[group]`, `key=value`, `#`/`;` comments). */
function parseIni(text: string): Map<string, Map<string, string>> {
  const groups = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const raw of text.replace(/^\uFEFF/, "").split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const group = /^\[(.+)\]$/.exec(line);
    if (group) {
      current = new Map();
      groups.set(group[1]!, current);
    } else if (current && line.includes("=")) {
      current.set(line.slice(0, line.indexOf("=")).trim(), line.slice(line.indexOf("=") + 1).trim());
    }
  }
  return groups;
}

interface Removal {
  /** Data file name → byte ranges to write as zeros. */
  zeroed: Map<string, [number, number][]>;
  ini: Buffer;
}

/**
 * How to leave pictures of the glass out of a copy: their non-hierarchical records' bytes in the
 * data files become zeros, and their names in Slidedat.ini are changed so no reader looks for them.
 */
async function planRemoval(folder: string, names: AssociatedName[], label: string): Promise<Removal> {
  const iniBytes = await readFile(join(folder, "Slidedat.ini"));
  let iniText = iniBytes.toString("utf8");
  const ini = parseIni(iniText);
  const hier = ini.get("HIERARCHICAL");
  const slideId = ini.get("GENERAL")?.get("SLIDE_ID");
  const indexName = hier?.get("INDEXFILE");
  if (!hier || !slideId || !indexName) throw new WsiError("CORRUPT", `${label}: its Slidedat.ini lacks SLIDE_ID, HIERARCHICAL or INDEXFILE.`);
  const wanted = new Set(names.map((n) => pictureValues[n]).filter(Boolean));
  const records: number[] = [];
  let recordNo = 0;
  const count = Number(hier.get("NONHIER_COUNT") ?? 0);
  for (let i = 0; i < count; i++) {
    const values = Number(hier.get(`NONHIER_${i}_COUNT`) ?? 0);
    for (let j = 0; j < values; j++, recordNo++) {
      const value = hier.get(`NONHIER_${i}_VAL_${j}`);
      if (value && wanted.has(value)) {
        records.push(recordNo);
        iniText = iniText.replace(new RegExp(`^(NONHIER_${i}_VAL_${j}\\s*=\\s*)${value}\\s*$`, "m"), `$1${value}${REMOVED}`);
      }
    }
  }
  const zeroed = new Map<string, [number, number][]>();
  if (records.length > 0) {
    const index = await readFile(join(folder, indexName));
    const int = (at: number) => {
      if (at < 0 || at + 4 > index.length) throw new WsiError("CORRUPT", `${label}: its ${indexName} is cut short.`);
      return index.readInt32LE(at);
    };
    const table = int(5 + Buffer.byteLength(slideId) + 4);
    for (const record of records) {
      const page = int(int(table + 4 * record) + 4);
      const [offset, size, fileNo] = [int(page + 16), int(page + 20), int(page + 24)];
      const file = ini.get("DATAFILE")?.get(`FILE_${fileNo}`);
      if (!file || offset < 0 || size < 0) throw new WsiError("CORRUPT", `${label}: a picture's record in ${indexName} points at no data file.`);
      zeroed.set(file, [...(zeroed.get(file) ?? []), [offset, offset + size]]);
    }
  }
  return { zeroed, ini: Buffer.from(iniText, "utf8") };
}

/** One file of an archive: read from `path`, or `bytes` instead (a rewritten key file); `zeroed` byte ranges written as zeros. */
interface PackedEntry {
  name: string;
  path: string;
  bytes?: Buffer;
  zeroed?: [number, number][];
}

async function writeTar(destination: string, entries: PackedEntry[]): Promise<void> {
  const out = await open(destination, "w");
  let position = 0;
  const write = async (bytes: Uint8Array) => {
    await out.write(bytes, 0, bytes.length, position);
    position += bytes.length;
  };
  const pad = async (size: number) => {
    if (size % BLOCK) await write(Buffer.alloc(BLOCK - (size % BLOCK)));
  };
  try {
    for (const entry of entries) {
      if (entry.bytes) {
        await write(tarHeader(entry.name, entry.bytes.length));
        await write(entry.bytes);
        await pad(entry.bytes.length);
        continue;
      }
      const { size } = await stat(entry.path);
      await write(tarHeader(entry.name, size));
      const zeros = entry.zeroed ?? [];
      let at = 0;
      for await (const chunk of createReadStream(entry.path, { highWaterMark: 4 * 1024 * 1024 })) {
        const bytes = chunk as Buffer;
        for (const [from, to] of zeros) {
          const start = Math.max(from - at, 0);
          const end = Math.min(to - at, bytes.length);
          if (start < end) bytes.fill(0, start, end);
        }
        at += bytes.length;
        await write(bytes);
      }
      if (at !== size) throw new WsiError("IO_ERROR", `${entry.name}: changed while it was being packed.`);
      await pad(size);
    }
    await write(Buffer.alloc(2 * BLOCK));
  } finally {
    await out.close();
  }
}

/**
 * Packs `<name>.mrxs` and its folder into one tar at `destination`. `without`: pictures of the
 * glass left out (their bytes zeroed, their names changed), for a lab that keeps them at home.
 */
export async function writeMrxsArchive(
  mrxsPath: string,
  destination: string,
  options: { without?: AssociatedName[] } = {},
): Promise<{ removed: AssociatedName[] }> {
  const label = basename(mrxsPath);
  const folder = join(dirname(mrxsPath), basename(mrxsPath, extname(mrxsPath)));
  const folderName = basename(folder);
  const files = (await readdir(folder, { withFileTypes: true }).catch(() => []))
    .filter((e) => e.isFile())
    .map((e) => e.name)
    .sort();
  if (!files.includes("Slidedat.ini"))
    throw new WsiError(
      "NOT_FOUND",
      `${label}: its data folder ${folderName}/ (with Slidedat.ini) is missing; an MRXS slide is the .mrxs file plus that folder beside it, so copy both.`,
    );
  const removal = options.without?.length ? await planRemoval(folder, options.without, label) : undefined;
  const removed = removal ? (options.without ?? []).filter((n) => removal.ini.includes(`${pictureValues[n]}${REMOVED}`)) : [];
  await writeTar(destination, [
    { name: basename(mrxsPath), path: mrxsPath },
    ...files.map((f) => ({
      name: `${folderName}/${f}`,
      path: join(folder, f),
      bytes: removal && f === "Slidedat.ini" ? removal.ini : undefined,
      zeroed: removal?.zeroed.get(f),
    })),
  ]);
  return { removed };
}

/** OpenSlide reads at most this much of a VMS key file; so does this. */
const MAX_VMS_KEY_FILE = 64 * 1024;
const VMS_GROUP = "Virtual Microscope Specimen";
/** Keys of a VMS key file that name a file beside it (ImageFile also as ImageFile(x,y) and (z,x,y)). */
const VMS_FILE_KEY = /^(ImageFile(\(.*\))?|MapFile|OptimisationFile|MacroImage)$/;

/**
 * Packs a Hamamatsu VMS slide (`<name>.vms` and the files it names beside it: the images, the
 * map, the optimisation file, the macro) into one tar at `destination`. `without: ["macro"]`
 * leaves the macro image out and its key out of the key file (a VMS slide has no label image).
 */
export async function writeVmsArchive(
  vmsPath: string,
  destination: string,
  options: { without?: AssociatedName[] } = {},
): Promise<{ removed: AssociatedName[] }> {
  const label = basename(vmsPath);
  const { size } = await stat(vmsPath);
  if (size > MAX_VMS_KEY_FILE) throw new WsiError("CORRUPT", `${label}: larger than a VMS key file can be (64 KiB); it is not a Hamamatsu VMS slide.`);
  const text = (await readFile(vmsPath)).toString("utf8");
  const group = parseIni(text).get(VMS_GROUP);
  if (!group) throw new WsiError("UNSUPPORTED_FORMAT", `${label}: has no [${VMS_GROUP}] group; it is not a Hamamatsu VMS slide.`);
  const dropMacro = options.without?.includes("macro") ?? false;
  const files = new Map<string, string>();
  for (const [key, value] of group) {
    if (!VMS_FILE_KEY.test(key) || !value || (dropMacro && key === "MacroImage")) continue;
    if (value.includes("/") || value.includes("\\") || value === "." || value === "..")
      throw new WsiError(
        "UNSUPPORTED_FORMAT",
        `${label}: ${key} names ${value}, not a file beside the .vms; pathx packs only files in the slide's own folder.`,
      );
    files.set(value, key);
  }
  const entries: PackedEntry[] = [];
  for (const [file, key] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const path = join(dirname(vmsPath), file);
    const found = await stat(path).catch(() => undefined);
    if (!found?.isFile()) {
      // OpenSlide reads a VMS slide without its optimisation file (it scans for restart markers instead).
      if (key === "OptimisationFile") continue;
      throw new WsiError(
        "NOT_FOUND",
        `${label}: ${file} (its ${key}) is missing beside it; a VMS slide is the .vms file plus the files it names, so copy them all.`,
      );
    }
    entries.push({ name: file, path });
  }
  const removed: AssociatedName[] = dropMacro && group.has("MacroImage") ? ["macro"] : [];
  const keyFile = removed.length ? Buffer.from(text.replace(/^[ \t]*MacroImage[ \t]*=[^\r\n]*(\r?\n)?/m, ""), "utf8") : undefined;
  await writeTar(destination, [{ name: label, path: vmsPath, bytes: keyFile }, ...entries]);
  return { removed };
}

/** Packs an MRXS or VMS slide by its extension (see writeMrxsArchive, writeVmsArchive). */
export function writeSlideArchive(
  slidePath: string,
  destination: string,
  options: { without?: AssociatedName[] } = {},
): Promise<{ removed: AssociatedName[] }> {
  const kind = isArchivedSlideFile(slidePath) ? kindOf(slidePath) : undefined;
  if (kind === "mrxs") return writeMrxsArchive(slidePath, destination, options);
  if (kind === "vms") return writeVmsArchive(slidePath, destination, options);
  throw new WsiError("INVALID_OPTIONS", `${basename(slidePath)}: only MRXS and VMS slides are packed as archives.`);
}

/**
 * Unpacks a slide archive into `into` (an empty work folder) and returns the slide file's path.
 * Only the shapes these archives have are taken: first the slide's file, then for MRXS plain
 * files in `<name>/`, for VMS plain files beside it.
 */
export async function unpackSlideArchive(archivePath: string, into: string): Promise<string> {
  const label = basename(archivePath);
  const refuse = (why: string) =>
    new WsiError(
      "CORRUPT",
      `${label}: not an MRXS or VMS slide archive (${why}); publish such slides with the lab's node (pathx node publish SLIDE.mrxs or SLIDE.vms).`,
    );
  const input = await open(archivePath, "r");
  try {
    const { size: total } = await input.stat();
    let at = 0;
    let slideFile: string | undefined;
    let folder: string | undefined;
    const pending: { name: string; at: number; size: number }[] = [];
    const names = new Set<string>();
    for (let n = 0; ; n++) {
      if (n > MAX_ENTRIES) throw refuse("too many entries");
      if (at + BLOCK > total) throw refuse("it ends before its end marker");
      const header = Buffer.alloc(BLOCK);
      await input.read(header, 0, BLOCK, at);
      if (header.every((b) => b === 0)) break;
      if (header.toString("latin1", 257, 262) !== "ustar") throw refuse("an entry without a tar header");
      const text = (from: number, length: number) => header.toString("utf8", from, from + length).replace(/\0.*$/s, "");
      const name = [text(345, 155), text(0, 100)].filter(Boolean).join("/");
      const size = Number.parseInt(text(124, 12).trim() || "0", 8);
      const type = text(156, 1) || "0";
      if (!Number.isSafeInteger(size) || size < 0 || at + BLOCK + size > total) throw refuse(`entry ${name} is cut short`);
      if (type === "0") {
        const parts = name.split("/");
        const safe = parts.every((p) => p && p !== "." && p !== ".." && !p.includes("\\"));
        if (!safe || parts.length > 2) throw refuse(`unexpected entry ${name}`);
        if (!slideFile) {
          if (!SLIDE_FILE.test(name) || (isSlideArchive(label) && kindOf(name) !== kindOf(label)))
            throw refuse(`its first entry ${name} is not the .${kindOf(label) ?? "mrxs or .vms"} file its name promises`);
          slideFile = name;
        } else if (kindOf(slideFile) === "mrxs") {
          if (parts.length !== 2 || (folder && folder !== parts[0])) throw refuse(`unexpected entry ${name}`);
          folder = parts[0];
        } else if (parts.length !== 1 || SLIDE_FILE.test(name) || names.has(name)) {
          throw refuse(`unexpected entry ${name}`);
        }
        pending.push({ name, at: at + BLOCK, size });
        names.add(name);
      } else if (type !== "5") throw refuse(`entry ${name} is not a plain file`);
      at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
    if (!slideFile) throw refuse("no .mrxs or .vms file in it");
    if (kindOf(slideFile) === "mrxs") {
      if (folder !== basename(slideFile, extname(slideFile))) throw refuse(`its folder is not named like ${slideFile}`);
      await mkdir(join(into, folder), { recursive: true });
    } else {
      await mkdir(into, { recursive: true });
    }
    const buffer = Buffer.allocUnsafe(4 * 1024 * 1024);
    for (const entry of pending) {
      const out = await open(join(into, entry.name), "w");
      try {
        for (let done = 0; done < entry.size; ) {
          const { bytesRead } = await input.read(buffer, 0, Math.min(buffer.length, entry.size - done), entry.at + done);
          if (bytesRead === 0) throw refuse(`entry ${entry.name} is cut short`);
          await out.write(buffer, 0, bytesRead, done);
          done += bytesRead;
        }
      } finally {
        await out.close();
      }
    }
    return join(into, slideFile);
  } finally {
    await input.close();
  }
}

/** Judges a slide archive from its first bytes before upload: a tar whose first entry is the `.mrxs` or `.vms` file. */
export function checkSlideArchiveHeader(head: Uint8Array, name: string): { code: string; message: string } | undefined {
  const header = Buffer.from(head.buffer, head.byteOffset, Math.min(head.byteLength, BLOCK));
  const first = header.toString("utf8", 0, 100).replace(/\0.*$/s, "");
  if (header.length === BLOCK && header.toString("latin1", 257, 262) === "ustar" && SLIDE_FILE.test(first) && kindOf(first) === kindOf(name)) return undefined;
  return {
    code: "UNSUPPORTED_FORMAT",
    message: `${name}: not an MRXS or VMS slide archive; publish such slides with the lab's node (pathx node publish SLIDE.mrxs or SLIDE.vms).`,
  };
}
