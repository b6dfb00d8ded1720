import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, read } from "node:fs";
import { chmod, mkdir, open, readdir, rename, rm, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { StorageError, checkKey } from "./errors";
import { createOpenFiles } from "./open-files";
import type { ObjectInfo, ObjectStore } from "./types";

/** Objects as files under one folder; writes go to a temporary file and are renamed into place. */
export function createLocalStore(root: string, options: { openFiles?: number } = {}): ObjectStore {
  const pathOf = (key: string) => join(root, ...checkKey(key).split("/"));
  // Ranged reads (slides read tile by tile) keep their files open; whole reads do not.
  const openFiles = createOpenFiles(options.openFiles ?? 64);
  const notFound = (key: string, error: unknown) =>
    (error as NodeJS.ErrnoException).code === "ENOENT" ? new StorageError("NOT_FOUND", `no object ${key}.`, { cause: error }) : error;
  const etagOf = (size: number, mtimeMs: number) => createHash("sha1").update(`${size}:${mtimeMs}`).digest("hex").slice(0, 16);
  // Slides and labels are patient data: the store's folder is its owner's only (0700), whatever the umask.
  let rootPrivate: Promise<void> | undefined;
  const makeRootPrivate = () => (rootPrivate ??= mkdir(root, { recursive: true, mode: 0o700 }).then(() => chmod(root, 0o700)));

  return {
    kind: "local",
    async put(key, body) {
      const path = pathOf(key);
      await makeRootPrivate();
      await mkdir(dirname(path), { recursive: true });
      const temporary = `${path}.${randomBytes(4).toString("hex")}.partial`;
      try {
        if (body instanceof Uint8Array) await writeFile(temporary, body);
        else await pipeline(body, createWriteStream(temporary));
        await rename(temporary, path);
        openFiles.forget(path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
    async get(key, range) {
      const path = pathOf(key);
      if (range) {
        return openFiles
          .use(
            path,
            // fs.read on the handle's descriptor (kept open by `use` until this read is done):
            // FileHandle.read's promise machinery cost a third more CPU per 20 KB tile read.
            (handle) =>
              new Promise<Buffer>((resolve, reject) => {
                const buffer = Buffer.allocUnsafe(range.length);
                read(handle.fd, buffer, 0, range.length, range.offset, (error, bytesRead) => (error ? reject(error) : resolve(buffer.subarray(0, bytesRead))));
              }),
          )
          .catch((e: unknown) => {
            throw notFound(key, e);
          });
      }
      const handle = await open(path, "r").catch((e: unknown) => {
        throw notFound(key, e);
      });
      try {
        return await handle.readFile();
      } finally {
        await handle.close();
      }
    },
    async getStream(key) {
      const path = pathOf(key);
      await stat(path).catch((e: unknown) => {
        throw notFound(key, e);
      });
      return createReadStream(path);
    },
    async head(key) {
      const s = await stat(pathOf(key)).catch(() => null);
      return s?.isFile() ? { key, size: s.size, etag: etagOf(s.size, s.mtimeMs) } : null;
    },
    async list(prefix) {
      const out: ObjectInfo[] = [];
      const walk = async (dir: string) => {
        const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
        for (const entry of entries) {
          const full = join(dir, entry.name);
          if (entry.isDirectory()) await walk(full);
          else if (!entry.name.endsWith(".partial")) {
            const key = relative(root, full).split(sep).join("/");
            if (key.startsWith(prefix)) {
              const s = await stat(full);
              out.push({ key, size: s.size, etag: etagOf(s.size, s.mtimeMs) });
            }
          }
        }
      };
      // Walk only the folder the prefix names, not the whole store.
      const base = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
      await walk(base ? join(root, ...base.split("/")) : root);
      return out.sort((a, b) => (a.key < b.key ? -1 : 1));
    },
    async delete(key) {
      openFiles.forget(pathOf(key));
      await unlink(pathOf(key)).catch((e: unknown) => {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      });
    },
    async deletePrefix(prefix) {
      const objects = await this.list(prefix);
      for (const o of objects) await this.delete(o.key);
      return objects.length;
    },
  };
}
