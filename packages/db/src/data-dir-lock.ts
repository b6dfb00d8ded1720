import { readFileSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Beside the data, while a server holds it: `<pid> <process start time> <port>`. */
export const DATA_DIR_LOCK_FILE = "pathx-db.pid";

/** A process's start time (Linux /proc), so a pid reused after a kill -9 is not taken for the holder. */
function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? "-";
  } catch {
    return "-";
  }
}

function isRunning(pid: number, startTime: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return startTime === "-" || startTimeOf(pid) === "-" || startTimeOf(pid) === startTime;
}

/**
 * Claims the PGlite data folder for this process, or throws if another live process serves it:
 * two PGlite instances on one folder would corrupt it. A claim left by a process that is gone
 * (kill -9, power loss) is taken over. Returns the release.
 */
export async function claimDataDir(dataDir: string, port: number): Promise<() => Promise<void>> {
  const file = join(dataDir, DATA_DIR_LOCK_FILE);
  const mine = `${process.pid} ${startTimeOf(process.pid)} ${port}`;
  for (let tries = 0; ; tries++) {
    try {
      await writeFile(file, mine, { flag: "wx", mode: 0o600 });
      return async () => {
        if ((await readFile(file, "utf8").catch(() => "")) === mine) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || tries > 0) throw error;
    }
    const [pid, startTime, heldPort] = (await readFile(file, "utf8").catch(() => "")).trim().split(" ");
    if (Number(pid) > 0 && isRunning(Number(pid), startTime ?? "-")) {
      throw new Error(
        `the embedded database in ${dataDir} is already served by process ${pid} (port ${heldPort ?? "?"}); stop that hub first, or give this one its own PGLITE_DIR`,
      );
    }
    await rm(file, { force: true }); // left by a process that is gone
  }
}
