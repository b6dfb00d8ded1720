import { chmod, mkdir } from "node:fs/promises";

/** The database folder holds password hashes and clinical data: owner-only (0700) whatever the umask. */
export async function makePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}
