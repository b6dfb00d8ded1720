import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadNodeConfig, saveNodeConfig } from "./config";
import { pseudonymise } from "./pseudonym";

const dir = await mkdtemp(join(tmpdir(), "node-agent-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("node agent", () => {
  it("turns a patient id into a keyed pseudonym that hides it and matches across labs", () => {
    const key = "shared-lab-key-0123456789";
    const a = pseudonymise("19 850101-1234", key);
    expect(a).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect(a).not.toContain("1234");
    expect(pseudonymise("198501011234", key)).toBe(a); // same patient written differently
    expect(pseudonymise("198501011234", "another-key-0123456789")).not.toBe(a);
    expect(() => pseudonymise("  ", key)).toThrow(/empty/);
  });

  it("keeps the node credential readable by its owner only, whatever the umask", async () => {
    const path = join(dir, "sub", "node.json");
    const previous = process.umask(0o000);
    try {
      await saveNodeConfig(path, { hub: "http://127.0.0.1:1", nodeId: "n", credential: "pxn_secret", lab: { slug: "s", name: "S" } });
    } finally {
      process.umask(previous);
    }
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "sub"))).mode & 0o777).toBe(0o700);
    expect((await loadNodeConfig(path)).credential).toBe("pxn_secret");
    await expect(loadNodeConfig(join(dir, "missing.json"))).rejects.toThrow(/not enrolled/);
  });
});
