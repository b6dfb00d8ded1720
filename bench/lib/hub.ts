import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

const repo = new URL("../../", import.meta.url).pathname;

/** Polls a URL until it answers below 500; throws after `seconds`, or as soon as `gone` settles. */
export async function waitFor(url: string, seconds: number, gone?: Promise<unknown>) {
  let exited = false;
  void gone?.then(() => (exited = true));
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    if (exited) throw new Error(`the process serving ${url} exited before it answered`);
    if (await fetch(url).then((r) => r.status < 500, () => false)) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${url} did not answer within ${seconds} s`);
}

/** Throws if something already listens on the loopback port (it would answer in the hub's place). */
async function assertPortFree(port: number) {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", () => reject(new Error(`port ${port} on 127.0.0.1 is in use; stop what runs there or choose another port`)));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
}

export interface RunningHub {
  url: string;
  /** Root of the hub's process tree (`scripts/start.sh`), leader of its own process group. */
  pid: number;
  /** The embedded database as the hub's processes reach it (connect with DATABASE_PREPARE=false). */
  databaseUrl: string;
  /** Settles with the root's exit code when it exits. */
  exited: Promise<number | null>;
  /** SIGTERM to the whole process group, SIGKILL to what is left after 15 s; resolves when none is left. */
  stop(): Promise<void>;
}

/**
 * The hub as `npm start` runs it (scripts/start.sh: embedded PGlite behind its wire-protocol
 * server on PORT + 10 000, objects in a folder), with its data in `dataDir`, on loopback only.
 * DATABASE_URL and S3 settings of the caller's environment are dropped, so it is always the
 * embedded set-up. Resolves once the web app answers.
 */
export async function startHub(options: { port: number; dataDir: string; authSecret: string; workers?: number; logFile?: string; readySeconds?: number }): Promise<RunningHub> {
  await assertPortFree(options.port);
  await assertPortFree(options.port + 10_000);
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name === "DATABASE_URL" || name === "EMBEDDED_DB_PORT" || name.startsWith("S3_")) delete env[name];
  Object.assign(env, {
    PORT: String(options.port),
    HOST: "127.0.0.1",
    PGLITE_DIR: join(options.dataDir, "pglite"),
    STORAGE_DIR: join(options.dataDir, "objects"),
    AUTH_SECRET: options.authSecret,
    ...(options.workers === undefined ? {} : { WORKERS: String(options.workers) }),
  });
  const log = options.logFile === undefined ? undefined : openSync(options.logFile, "a");
  const child = spawn("bash", [join(repo, "scripts/start.sh")], {
    env,
    stdio: log === undefined ? ["ignore", "ignore", "inherit"] : ["ignore", log, log],
    detached: true, // its own process group, so stop() reaches the web app, workers and launchers
  });
  if (log !== undefined) closeSync(log);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const pid = child.pid!;
  const groupAlive = () => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const hub: RunningHub = {
    url: `http://127.0.0.1:${options.port}`,
    pid,
    // The embedded server's fixed credentials (packages/db/src/embedded-server.ts) on scripts/run.ts's port.
    databaseUrl: `postgres://postgres:postgres@127.0.0.1:${options.port + 10_000}/postgres`,
    exited,
    async stop() {
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-pid, name);
        } catch {}
      };
      signal("SIGTERM");
      for (let waited = 0; groupAlive(); waited += 200) {
        if (waited === 15_000) signal("SIGKILL");
        await new Promise((r) => setTimeout(r, 200));
      }
      await exited;
    },
  };
  try {
    await waitFor(`${hub.url}/sign-in`, options.readySeconds ?? 300, exited);
  } catch (error) {
    await hub.stop();
    throw error;
  }
  return hub;
}
