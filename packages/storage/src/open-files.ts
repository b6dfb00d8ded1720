import { type FileHandle, open } from "node:fs/promises";

interface OpenFile {
  handle: Promise<FileHandle>;
  /** Reads running on the handle: it is closed only when none is. */
  users: number;
  dropped: boolean;
}

/**
 * Files kept open between ranged reads, at most `max` idle ones (least recently used closed
 * first). A tile service reads the same slide file thousands of times a minute; opening and
 * closing it for each 10 KB read was most of a read's cost. A handle in use is never closed
 * under its reader: `forget` (the file was replaced or deleted) closes it after its last read.
 */
export function createOpenFiles(max: number) {
  const files = new Map<string, OpenFile>();
  const close = (file: OpenFile) => void file.handle.then((h) => h.close()).catch(() => {});
  const trim = () => {
    if (files.size <= max) return;
    for (const [path, file] of files) {
      if (files.size <= max) break;
      if (file.users > 0) continue;
      files.delete(path);
      close(file);
    }
  };
  return {
    /** Runs `read` with the file's handle, opening it if needed; the open's error (ENOENT…) is `read`'s caller's. */
    async use<T>(path: string, read: (handle: FileHandle) => Promise<T>): Promise<T> {
      let file = files.get(path);
      if (file)
        files.delete(path); // re-inserted below: most recently used last
      else {
        file = { handle: open(path, "r"), users: 0, dropped: false };
        const opening = file;
        // A failed open is not kept: the next read tries again (the file may exist by then).
        opening.handle.catch(() => {
          opening.dropped = true;
          if (files.get(path) === opening) files.delete(path);
        });
      }
      if (!file.dropped) files.set(path, file);
      file.users++;
      try {
        return await read(await file.handle);
      } finally {
        file.users--;
        if (file.users === 0 && file.dropped) close(file);
        trim();
      }
    },
    /** The file at `path` was replaced or removed: later reads open it afresh. */
    forget(path: string): void {
      const file = files.get(path);
      if (!file) return;
      files.delete(path);
      file.dropped = true;
      if (file.users === 0) close(file);
    },
    get size() {
      return files.size;
    },
    closeAll(): void {
      for (const path of [...files.keys()]) this.forget(path);
    },
  };
}
