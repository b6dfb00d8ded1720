import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "../../../..");

export interface HubProcess {
  url: string;
  log: string;
  /** The root of the hub's process tree (`scripts/start.sh`, leader of its own group): for memory and CPU measurements. */
  pid(): number | undefined;
  /** The embedded database as the hub's processes reach it (connect with DATABASE_PREPARE=false). */
  databaseUrl: string;
  /** kill -9 of the whole hub: web app, workers and the embedded database, with no chance to clean up. */
  kill9(): Promise<void>;
  /** SIGTERM to the whole group, SIGKILL to what is left after 15 s; resolves when none is left. */
  stop(): Promise<void>;
  /** Starts it again on the same data, as an operator would after a crash. */
  restart(): Promise<void>;
}

/** Throws if something already listens on the loopback port (it would answer in the hub's place). */
async function assertPortFree(port: number) {
  await new Promise<void>((done, fail) => {
    const server = createServer();
    server.once("error", () => fail(new Error(`port ${port} on 127.0.0.1 is in use; stop what runs there or choose another port`)));
    server.listen(port, "127.0.0.1", () => server.close(() => done()));
  });
}

/**
 * The hub as `npm start` runs it (built Next app, tiling workers, embedded PGlite behind its
 * wire-protocol server on PORT + 10 000, objects in a folder) on its own data folder: for tests
 * and benchmarks that treat the hub as a black box. DATABASE_URL and S3 settings of the caller's
 * environment are dropped, so it is always the embedded set-up. Resolves once it answers.
 */
export async function startHubProcess(options: {
  port: number;
  dataDir: string;
  authSecret?: string;
  workers?: number;
  /** Seed the demo slides too (default: labs and users only). */
  demoSlides?: boolean;
  /** Where its output goes (default `<dataDir>/hub.log`). */
  logFile?: string;
  readySeconds?: number;
  /** Extra settings for the hub's processes (e.g. BODY_TIMEOUT_MS). */
  env?: Record<string, string>;
}): Promise<HubProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  mkdirSync(options.dataDir, { recursive: true });
  const log = options.logFile ?? join(options.dataDir, "hub.log");
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (name === "DATABASE_URL" || name === "EMBEDDED_DB_PORT" || name.startsWith("S3_") || name.startsWith("TILES_")) delete env[name];
  Object.assign(env, {
    PORT: String(options.port),
    HOST: "127.0.0.1",
    PGLITE_DIR: join(options.dataDir, "pglite"),
    STORAGE_DIR: join(options.dataDir, "objects"),
    AUDIT_KEY_FILE: join(options.dataDir, "audit-signing-key.pem"),
    AUTH_SECRET: options.authSecret ?? "integration-secret-integration-secret",
    AUTH_URL: url,
    DEMO_SLIDES: options.demoSlides ? "true" : "false",
    WORKERS: String(options.workers ?? 1),
    ...options.env,
  });
  let child: ChildProcess | undefined;
  const groupAlive = (pid: number) => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const signalGroup = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current?.pid) return;
    const pid = current.pid;
    const send = (name: NodeJS.Signals) => {
      try {
        process.kill(-pid, name);
      } catch {}
    };
    send(signal);
    // The web app and workers are in the group too: wait until every one of them is gone, so the ports are free.
    for (let waited = 0; groupAlive(pid); waited += 200) {
      if (waited === 15_000) send("SIGKILL");
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const launch = async () => {
    await assertPortFree(options.port);
    await assertPortFree(options.port + 1); // the tile service
    await assertPortFree(options.port + 10_000);
    const out = openSync(log, "a");
    // Its own process group, so kill9 and stop reach every process of the hub.
    child = spawn("bash", [join(root, "scripts/start.sh")], { cwd: root, detached: true, stdio: ["ignore", out, out], env });
    const deadline = Date.now() + (options.readySeconds ?? 300) * 1000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the hub exited while starting; see ${log}`);
      if (
        await fetch(`${url}/api/auth/csrf`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return;
      if (Date.now() > deadline) {
        await signalGroup("SIGKILL");
        throw new Error(`the hub did not answer within ${options.readySeconds ?? 300} s; see ${log}`);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  await launch();
  return {
    url,
    log,
    pid: () => child?.pid,
    // The embedded server's generated password, kept 0600 in its data folder (packages/db/src/embedded-server.ts), on scripts/run.ts's port.
    get databaseUrl() {
      const password = readFileSync(join(options.dataDir, "pglite", "pathx-db-password"), "utf8").trim();
      return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port + 10_000}/postgres`;
    },
    kill9: () => signalGroup("SIGKILL"),
    stop: () => signalGroup("SIGTERM"),
    restart: launch,
  };
}
