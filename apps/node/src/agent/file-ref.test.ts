import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadNodeConfig, saveNodeConfig } from "./config";
import { loadIndexKey, makeFileRef, readFileRef } from "./file-ref";

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

it("gives runs of the node that start at once (two backlogs) one reference key, the one its configuration keeps", async () => {
  const dir = await mkdtemp(join(tmpdir(), "node-key-"));
  const configPath = join(dir, "node.json");
  await saveNodeConfig(configPath, { hub: "https://hub.example", nodeId: "n", credential: "pxn_x", lab: { slug: "north", name: "North" } });
  // Each run read the configuration before either made a key; while they save it, others read it.
  const runs = await Promise.all(Array.from({ length: 4 }, () => loadNodeConfig(configPath)));
  const reading = Promise.all(Array.from({ length: 20 }, () => loadNodeConfig(configPath)));
  const keys = await Promise.all(runs.map((config) => loadIndexKey(configPath, config)));
  await reading; // never a half-written file
  expect(new Set(keys.map((k) => k.toString("base64"))).size).toBe(1);
  expect((await loadNodeConfig(configPath)).indexKey).toBe(keys[0]!.toString("base64"));
  expect((await stat(configPath)).mode & 0o777).toBe(0o600);
  expect(JSON.parse(await readFile(configPath, "utf8")).credential).toBe("pxn_x");
  await rm(dir, { recursive: true, force: true });
});
