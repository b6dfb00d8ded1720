import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "../lib/hub";

/** The tile service as npm start runs it (apps/tiles/src/main.ts), on a database and folder store of the bench's. */
export async function startTileServiceProcess(options: {
  port: number;
  databaseUrl: string;
  storageDir: string;
  secret: string;
  processes: number;
  /** Settings on top of the bench's environment (e.g. TILE_READ_THREADS=pool), for A/B runs. */
  env?: Record<string, string>;
}) {
  const repo = new URL("../../", import.meta.url).pathname;
  // BENCH_PROFILE_DIR: each tile process writes a CPU profile there when it stops (node --cpu-prof).
  const profile = process.env.BENCH_PROFILE_DIR;
  const [command, args] = profile
    ? [process.execPath, ["--cpu-prof", "--cpu-prof-dir", profile, "--import", "tsx", join(repo, "apps/tiles/src/main.ts")]]
    : [join(repo, "node_modules/.bin/tsx"), [join(repo, "apps/tiles/src/main.ts")]];
  const child: ChildProcess = spawn(command, args, {
    cwd: repo,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      TILES_PORT: String(options.port),
      TILES_HOST: "127.0.0.1",
      TILE_PROCESSES: String(options.processes),
      TILE_TOKEN_SECRET: options.secret,
      HUB_ORIGIN: "http://127.0.0.1:3000",
      DATABASE_URL: options.databaseUrl,
      DATABASE_PREPARE: "false",
      STORAGE_DIR: options.storageDir,
      ...options.env,
    },
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  await waitFor(`http://127.0.0.1:${options.port}/healthz`, 60, exited);
  return {
    pid: child.pid!,
    /** Resident memory of the service (all its processes), MiB. */
    rssMiB(): number {
      const pids = [child.pid!, ...childrenOf(child.pid!)];
      return pids.reduce((sum, pid) => sum + rssKiB(pid), 0) / 1024;
    },
    /** CPU seconds (user + system) used so far by the service's processes, their threads included. */
    cpuSeconds(): number {
      const pids = [child.pid!, ...childrenOf(child.pid!)];
      return pids.reduce((sum, pid) => sum + cpuTicks(pid), 0) / 100; // USER_HZ is 100 on Linux
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

function childrenOf(pid: number): number[] {
  try {
    const direct = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    return direct.flatMap((c) => [c, ...childrenOf(c)]);
  } catch {
    return [];
  }
}

function rssKiB(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU ticks (user + system, 1/100 s) of a process, its threads included, exited ones too; 0 once it is gone. */
export function cpuTicks(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return 0;
  }
}
