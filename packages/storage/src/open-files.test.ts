import { readdirSync, readlinkSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createLocalStore } from "./local-store";
import { createOpenFiles } from "./open-files";

const root = await mkdtemp(join(tmpdir(), "open-files-"));
afterAll(() => rm(root, { recursive: true, force: true }));
const openUnder = (dir: string) =>
  readdirSync("/proc/self/fd").filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir);
    } catch {
      return false;
    }
  }).length;

it("keeps at most its limit of idle files open, however many are read", async () => {
  const dir = join(root, "many");
  const store = createLocalStore(dir, { openFiles: 8 });
  for (let i = 0; i < 40; i++) await store.put(`f/${i}.bin`, Buffer.from(`file ${i} `.repeat(10)));
  for (let round = 0; round < 3; round++) {
    const parts = await Promise.all(Array.from({ length: 40 }, (_, i) => store.get(`f/${i}.bin`, { offset: 5, length: 3 })));
    expect(parts.map((p) => p.toString())).toEqual(Array.from({ length: 40 }, (_, i) => `${i} `.padEnd(3, "f").slice(0, 3)));
  }
  // Closing a file that left the cache is asynchronous: wait for the kernel to see it.
  for (let i = 0; i < 200 && openUnder(dir) > 8; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(openUnder(dir)).toBeLessThanOrEqual(8);
  expect(openUnder(dir)).toBeGreaterThan(0); // kept open: the next read of a recent file opens nothing
});

it("reads a replaced object afresh and a deleted one as missing", async () => {
  const store = createLocalStore(join(root, "replace"));
  await store.put("a.bin", Buffer.from("first version"));
  expect((await store.get("a.bin", { offset: 0, length: 5 })).toString()).toBe("first");
  await store.put("a.bin", Buffer.from("later version"));
  expect((await store.get("a.bin", { offset: 0, length: 5 })).toString()).toBe("later");
  await store.delete("a.bin");
  await expect(store.get("a.bin", { offset: 0, length: 5 })).rejects.toMatchObject({ code: "NOT_FOUND" });
  await store.put("a.bin", Buffer.from("again"));
  expect((await store.get("a.bin", { offset: 0, length: 5 })).toString()).toBe("again");
});

it("closes a forgotten file only after the read running on it", async () => {
  const path = join(root, "slow.bin");
  await writeFile(path, "0123456789");
  const files = createOpenFiles(4);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const reading = files.use(path, async (handle) => {
    await gate;
    const buffer = Buffer.alloc(4);
    await handle.read(buffer, 0, 4, 2);
    return buffer.toString();
  });
  await new Promise((resolve) => setImmediate(resolve));
  files.forget(path);
  expect(files.size).toBe(0);
  release();
  expect(await reading).toBe("2345");
  // Closed once its read ended: wait for the close to reach the kernel.
  for (let i = 0; i < 100 && openUnder(path) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(openUnder(path)).toBe(0);
});

it("does not keep a failed open", async () => {
  const files = createOpenFiles(4);
  await expect(files.use(join(root, "missing.bin"), async () => "read")).rejects.toMatchObject({ code: "ENOENT" });
  expect(files.size).toBe(0);
});
