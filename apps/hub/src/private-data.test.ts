import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, readDbEnv } from "@pathx/db";
import { createLocalStore } from "@pathx/storage";

// The start-up pieces run under umask 000 (the worst an operator's shell can have): secrets
// still come out 0600 and data folders 0700.
const root = resolve(import.meta.dirname, "../../..");
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;
let work: string;
let previous: number;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "private-data-"));
  previous = process.umask(0o000);
});
afterAll(async () => {
  process.umask(previous);
  await rm(work, { recursive: true, force: true });
});

describe("secrets and data folders whatever the umask", () => {
  it("npm start's session secret is 0600 and .data 0700, also when an older start left them open", async () => {
    const run = (dir: string) =>
      execFileSync(
        "bash",
        ["-c", `umask 000; source "${root}/scripts/lib/private-data.sh"; cd "${dir}"; private_data_dir .data; ensure_auth_secret .data/auth-secret`],
        { encoding: "utf8" },
      );
    const fresh = join(work, "fresh");
    await mkdir(fresh);
    const secret = run(fresh);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await modeOf(join(fresh, ".data"))).toBe(0o700);
    expect(await modeOf(join(fresh, ".data/auth-secret"))).toBe(0o600);
    expect(run(fresh)).toBe(secret); // kept across starts

    const old = join(work, "old");
    await mkdir(join(old, ".data"), { recursive: true, mode: 0o755 });
    await writeFile(join(old, ".data/auth-secret"), "an-older-secret-left-world-readable", { mode: 0o644 });
    await chmod(join(old, ".data"), 0o755);
    expect(run(old)).toBe("an-older-secret-left-world-readable");
    expect(await modeOf(join(old, ".data"))).toBe(0o700);
    expect(await modeOf(join(old, ".data/auth-secret"))).toBe(0o600);
  });

  it("the embedded database folder is 0700", async () => {
    const dir = join(work, "pglite");
    const handle = await createDb(readDbEnv({ PGLITE_DIR: dir }));
    await handle.close();
    expect(await modeOf(dir)).toBe(0o700);
  });

  it("the local object store's folder is 0700", async () => {
    const dir = join(work, "objects");
    await createLocalStore(dir).put("sources/a/slide.svs", Buffer.from("x"));
    expect(await modeOf(dir)).toBe(0o700);
  });
});
