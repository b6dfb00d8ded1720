import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { makeFileRef, readFileRef } from "./file-ref";

describe("file references for index-only slides", () => {
  const key = randomBytes(32);
  const path = "/archive/2019/Smith John/N19-0042 A1.svs";

  it("hide the path, are stable for the same file, and read back with the node's key only", () => {
    const ref = makeFileRef(key, path);
    expect(ref).toMatch(/^[\w-]+$/);
    expect(ref).not.toContain("Smith");
    expect(Buffer.from(ref, "base64url").toString("latin1")).not.toContain("Smith");
    expect(makeFileRef(key, path)).toBe(ref);
    expect(makeFileRef(key, `${path}x`)).not.toBe(ref);
    expect(readFileRef(key, ref)).toBe(path);
    expect(readFileRef(randomBytes(32), ref)).toBeUndefined();
  });

  it("refuse a reference that was altered", () => {
    const bytes = Buffer.from(makeFileRef(key, path), "base64url");
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
    expect(readFileRef(key, bytes.toString("base64url"))).toBeUndefined();
    expect(readFileRef(key, "short")).toBeUndefined();
  });
});
