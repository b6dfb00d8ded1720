import { type Stats, closeSync, fstatSync, openSync, readSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { basename } from "node:path";
import { WsiError } from "./errors";

/**
 * Random-access bytes of one slide file. Readers ask only for the ranges they need, so the
 * same code reads a local file or an object in S3 (ranged GETs).
 */
export interface ByteSource {
  /** A name for messages and for the pyramid's default file name. */
  readonly name: string;
  size(): Promise<number>;
  /** Exactly `length` bytes at `offset`; fails with TRUNCATED when the range passes the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

function checkRange(name: string, offset: number, length: number, size: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new WsiError("CORRUPT", `${name}: invalid byte range ${offset}+${length}.`);
  }
  if (offset + length > size) {
    throw new WsiError(
      "TRUNCATED",
      `${name}: the file ends at byte ${size} but data is expected up to byte ${offset + length}; it is probably truncated (incomplete copy or upload). Copy it again.`,
    );
  }
}

/** What failed to open a local slide file, as a message for its user. */
function openFailure(path: string, error: unknown): WsiError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return new WsiError("NOT_FOUND", `${path}: no such file.`, { cause: error });
  if (code === "EISDIR") return new WsiError("IO_ERROR", `${path}: is a folder, not a slide file.`, { cause: error });
  if (code === "EACCES" || code === "EPERM") {
    return new WsiError("IO_ERROR", `${path}: permission denied; check the file's read permission.`, { cause: error });
  }
  return new WsiError("IO_ERROR", `${path}: cannot open (${code ?? String(error)}).`, { cause: error });
}

const notRegularFile = (path: string, stat: Stats) =>
  new WsiError("IO_ERROR", `${path}: ${stat.isDirectory() ? "is a folder, not a slide file" : "not a regular file"}.`);

/**
 * A local file of `size` bytes read through `readAt` (one positional read, which may return
 * fewer bytes than asked): the range checks and the loop both kinds of file source share.
 */
function localFileSource(
  path: string,
  size: number,
  readAt: (buffer: Buffer, at: number, length: number, position: number) => number | Promise<number>,
  close: () => Promise<void>,
): ByteSource {
  const name = basename(path);
  return {
    name,
    size: async () => size,
    async read(offset, length) {
      checkRange(name, offset, length, size);
      const buffer = Buffer.allocUnsafe(length);
      let done = 0;
      try {
        while (done < length) {
          const bytesRead = await readAt(buffer, done, length - done, offset + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
      } catch (error) {
        throw new WsiError("IO_ERROR", `${name}: read failed at byte ${offset} (${String(error)}).`, { cause: error });
      }
      if (done < length) checkRange(name, offset, length, offset + done);
      return buffer;
    },
    close,
  };
}

/** A local file read with positional reads; the handle stays open until close(). */
export async function openFileSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw openFailure(path, error);
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw notRegularFile(path, stat);
  }
  return localFileSource(
    path,
    stat.size,
    async (buffer, at, length, position) => (await handle.read(buffer, at, length, position)).bytesRead,
    () => handle.close(),
  );
}

/**
 * A local file read with blocking positional reads, for a worker thread that reads many small
 * slides one after another (a backlog): directory reads are a few KB from the page cache, so a
 * blocking read costs microseconds where a promise through the thread pool costs far more.
 * Never use it on the main thread of a server.
 */
export async function openBlockingFileSource(path: string): Promise<ByteSource> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw openFailure(path, error);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw notRegularFile(path, stat);
  }
  let closed = false;
  const source = localFileSource(
    path,
    stat.size,
    (buffer, at, length, position) => readSync(fd, buffer, at, length, position),
    async () => {
      if (!closed) closeSync(fd);
      closed = true;
    },
  );
  return withReadWindow(source, stat.size);
}

/** Small reads (a TIFF header, an IFD's count, its table, geotiff's 1 KiB slices) come from one window this large. */
const WINDOW_BYTES = 16 * 1024;
const SMALL_READ_BYTES = 4 * 1024;

/**
 * Serves small reads from the last window read: opening a TIFF asks for three or four small
 * ranges around each directory (16 reads for a 4-level pyramid), each a system call and its
 * argument checks; through a 16 KiB window they are about one read per directory. Each answer
 * is its own copy, as from a direct read.
 */
function withReadWindow(source: ByteSource, size: number): ByteSource {
  let window: { start: number; bytes: Uint8Array } | undefined;
  return {
    ...source,
    async read(offset, length) {
      // Anything else (large, invalid, past the end) is read, or refused, as before.
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || length > SMALL_READ_BYTES || offset < 0 || offset + length > size)
        return source.read(offset, length);
      if (!window || offset < window.start || offset + length > window.start + window.bytes.length) {
        window = { start: offset, bytes: await source.read(offset, Math.min(WINDOW_BYTES, size - offset)) };
      }
      return Buffer.from(window.bytes.subarray(offset - window.start, offset - window.start + length));
    },
  };
}

/** Bytes already in memory (tests, small uploads). */
export function createMemorySource(bytes: Uint8Array, name = "memory.tif"): ByteSource {
  return {
    name,
    size: async () => bytes.length,
    async read(offset, length) {
      checkRange(name, offset, length, bytes.length);
      return bytes.subarray(offset, offset + length);
    },
    close: async () => {},
  };
}

/**
 * A slide behind an HTTP(S) URL that honours Range requests: a presigned S3 URL, or any object
 * server. Each read is one ranged GET.
 */
export async function openHttpRangeSource(url: string, options: { headers?: Record<string, string>; name?: string } = {}): Promise<ByteSource> {
  const name = options.name ?? decodeURIComponent(basename(new URL(url).pathname)) ?? "remote.tif";
  const head = await fetch(url, { method: "HEAD", headers: options.headers }).catch((error: unknown) => {
    throw new WsiError("IO_ERROR", `${name}: cannot reach ${new URL(url).host} (${String(error)}).`, { cause: error });
  });
  if (head.status === 404) throw new WsiError("NOT_FOUND", `${name}: the server has no such object.`);
  if (!head.ok) throw new WsiError("IO_ERROR", `${name}: the server answered HTTP ${head.status}.`);
  const size = Number(head.headers.get("content-length"));
  if (!Number.isSafeInteger(size)) throw new WsiError("IO_ERROR", `${name}: the server did not say the object's size.`);
  return {
    name,
    size: async () => size,
    async read(offset, length) {
      checkRange(name, offset, length, size);
      if (length === 0) return new Uint8Array(0);
      const response = await fetch(url, {
        headers: { ...options.headers, range: `bytes=${offset}-${offset + length - 1}` },
      }).catch((error: unknown) => {
        throw new WsiError("IO_ERROR", `${name}: ranged read failed (${String(error)}).`, { cause: error });
      });
      if (response.status !== 206 && !(response.status === 200 && offset === 0 && length === size)) {
        throw new WsiError("IO_ERROR", `${name}: the server answered HTTP ${response.status} to a ranged read; it must support Range requests.`);
      }
      const bytes = new Uint8Array(await response.arrayBuffer());
      if (bytes.length !== length) throw new WsiError("IO_ERROR", `${name}: short ranged read (${bytes.length} of ${length} bytes).`);
      return bytes;
    },
    close: async () => {},
  };
}
