import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../../../..");

export interface HubProcess {
  url: string;
  log: string;
  /** The supervisor's pid: the root of the hub's process tree (for memory measurements). */
  pid(): number | undefined;
  /** kill -9 of the whole hub: web app, workers and the embedded database, with no chance to clean up. */
  kill9(): Promise<void>;
  stop(): Promise<void>;
  /** Starts it again on the same data, as an operator would after a crash. */
  restart(): Promise<void>;
}

/**
 * The hub as `npm start` runs it (built Next app, tiling workers, embedded PGlite behind its
 * wire-protocol server) on its own data folder: for tests that treat the hub as a black box
 * and talk to it over HTTP only, as a lab node does.
 */
export async function startHubProcess(options: { port: number; dataDir: string }): Promise<HubProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const log = join(options.dataDir, "hub.log");
  let child: ChildProcess | undefined;
  mkdirSync(options.dataDir, { recursive: true });
  const launch = async () => {
    const out = openSync(log, "a");
    child = spawn("bash", [join(root, "scripts/start.sh")], {
      cwd: root,
      detached: true, // its own process group, so kill9 takes every process of the hub
      stdio: ["ignore", out, out],
      env: {
        ...process.env,
        PORT: String(options.port),
        HOST: "127.0.0.1",
        PGLITE_DIR: join(options.dataDir, "pglite"),
        STORAGE_DIR: join(options.dataDir, "objects"),
        AUTH_SECRET: "integration-secret-integration-secret",
        AUTH_URL: url,
        DEMO_SLIDES: "false",
        WORKERS: "1",
      },
    });
    const deadline = Date.now() + 240_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the hub exited while starting; see ${log}`);
      const ok = await fetch(`${url}/api/auth/csrf`).then((r) => r.ok, () => false);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`the hub did not answer within 4 minutes; see ${log}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const signalGroup = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current?.pid || current.exitCode !== null) return;
    const exited = new Promise((r) => current.once("exit", r));
    try {
      process.kill(-current.pid, signal);
    } catch {
      return;
    }
    await exited;
    // The group's other members (next, workers) go with SIGKILL at once; give the OS a moment to free the ports.
    await new Promise((r) => setTimeout(r, 500));
  };
  await launch();
  return {
    url,
    log,
    pid: () => child?.pid,
    kill9: () => signalGroup("SIGKILL"),
    stop: () => signalGroup("SIGTERM"),
    restart: launch,
  };
}
