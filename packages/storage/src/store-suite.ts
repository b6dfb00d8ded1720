import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { openRangeReader } from "./index";
import type { ObjectStore } from "./types";

/** The behaviour every ObjectStore must have; run against the local folder and against S3. */
export function describeObjectStore(name: string, open: () => ObjectStore) {
  describe(`${name} object store`, () => {
    const prefix = `t-${randomBytes(4).toString("hex")}`;

    it("puts, heads, gets whole and ranged, lists by prefix, deletes", async () => {
      const store = open();
      const bytes = randomBytes(100_000);
      await store.put(`${prefix}/a/one.bin`, bytes, { contentType: "application/octet-stream" });
      await store.put(`${prefix}/a/two.bin`, Buffer.from("two"));
      await store.put(`${prefix}/b/three.bin`, Buffer.from("three"));
      expect((await store.head(`${prefix}/a/one.bin`))?.size).toBe(100_000);
      expect(await store.head(`${prefix}/a/missing.bin`)).toBeNull();
      expect(Buffer.compare(await store.get(`${prefix}/a/one.bin`), bytes)).toBe(0);
      expect(Buffer.compare(await store.get(`${prefix}/a/one.bin`, { offset: 1000, length: 500 }), bytes.subarray(1000, 1500))).toBe(0);
      expect((await store.list(`${prefix}/a/`)).map((o) => o.key)).toEqual([`${prefix}/a/one.bin`, `${prefix}/a/two.bin`]);
      await store.delete(`${prefix}/a/two.bin`);
      expect(await store.head(`${prefix}/a/two.bin`)).toBeNull();
      expect(await store.deletePrefix(`${prefix}/`)).toBe(2);
      expect(await store.list(`${prefix}/`)).toEqual([]);
    });

    it("stores a streamed multi-MB body byte for byte (no checksum framing inside)", async () => {
      const store = open();
      const chunks = Array.from({ length: 12 }, () => randomBytes(1024 * 1024));
      const expected = createHash("sha256").update(Buffer.concat(chunks)).digest("hex");
      await store.put(`${prefix}/stream.bin`, Readable.from(chunks));
      const back = await store.get(`${prefix}/stream.bin`);
      expect(back.length).toBe(12 * 1024 * 1024);
      expect(createHash("sha256").update(back).digest("hex")).toBe(expected);
      const reader = await openRangeReader(store, `${prefix}/stream.bin`);
      expect(await reader.size()).toBe(12 * 1024 * 1024);
      expect(Buffer.compare(Buffer.from(await reader.read(5_000_000, 64)), back.subarray(5_000_000, 5_000_064))).toBe(0);
      await store.deletePrefix(`${prefix}/`);
    });

    it("answers a missing object NOT_FOUND and refuses unsafe keys", async () => {
      const store = open();
      await expect(store.get(`${prefix}/nope`)).rejects.toMatchObject({ code: "NOT_FOUND" });
      for (const key of ["../etc/passwd", "/abs", "a/../../b", "a//b", "a/./b", ""]) {
        await expect(store.put(key, Buffer.from("x"))).rejects.toMatchObject({ code: "INVALID_KEY" });
      }
    });
  });
}
