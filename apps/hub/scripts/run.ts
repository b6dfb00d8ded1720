import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { startEmbeddedDbServer } from "@pathx/db";
import { readRunEnv } from "../src/env";
import { formatDemoAccounts } from "../src/demo/demo-accounts";
import { ensureHubBuild } from "./build-step";

/**
 * `npm start`: hosts the embedded database (unless DATABASE_URL names a PostgreSQL server),
 * migrates and seeds it, then runs the web app, the tile service and the workers (apps/worker) as
 * their own processes and restarts a worker or tile service that dies.
 */
const settings = readRunEnv();
const port = settings.PORT;
const root = resolve(import.meta.dirname, "../../..");
const started = performance.now();
/** One line per step with the seconds since `npm start` began, so a first start shows where it is. */
const progress = (line: string) => console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);
// Children get the same environment plus where the database is.
const env: NodeJS.ProcessEnv = { ...process.env };
let embedded: Awaited<ReturnType<typeof startEmbeddedDbServer>> | undefined;

// The web app's build and the database (start, migrate, seed) do not depend on each other:
// on a first start they run side by side.
progress("checking the web app's build (a first build takes about a minute)…");
const build = ensureHubBuild(root, env, progress).then((outcome) => progress(outcome === "built" ? "web app built" : "web app build is up to date"));
build.catch(() => {}); // reported where it is awaited, after the database step
if (!settings.DATABASE_URL) {
  const dbPort = settings.EMBEDDED_DB_PORT ?? port + 10_000;
  progress("starting the embedded database…");
  embedded = await startEmbeddedDbServer({ dataDir: resolve(settings.PGLITE_DIR), port: dbPort });
  env.DATABASE_URL = embedded.url;
  env.DATABASE_PREPARE = "false";
  progress(`embedded database (PGlite) on 127.0.0.1:${dbPort}, data in ${resolve(settings.PGLITE_DIR)}`);
}
// The tile service beside the web app: its port, the origin it lets read tiles, where browsers reach it.
const tilesPort = settings.TILES_PORT ?? port + 1;
const hubUrl = new URL(settings.AUTH_URL ?? `http://127.0.0.1:${port}`);
env.TILES_PORT = String(tilesPort);
env.TILES_HOST = settings.HOST;
env.HUB_ORIGIN = hubUrl.origin;
env.TILES_PUBLIC_URL = settings.TILES_PUBLIC_URL ?? `${hubUrl.protocol}//${hubUrl.hostname}:${tilesPort}`;
Object.assign(process.env, env);
progress("migrating the database and seeding demo data on first start…");
try {
  await runSeed();
  progress("database ready");
  await build;
} catch (error) {
  console.error((error as Error).message);
  await embedded?.stop().catch(() => {});
  process.exit(1);
}
console.log(`\n${formatDemoAccounts()}\n`);

const children = new Set<ChildProcess>();
let shuttingDown = false;
function launch(name: string, command: string, args: string[], cwd: string, restart: boolean, extraEnv: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, { cwd, env: { ...env, ...extraEnv }, stdio: "inherit" });
  children.add(child);
  child.on("exit", (code, signal) => {
    children.delete(child);
    if (shuttingDown) return;
    if (restart) {
      console.error(`${name} exited (${signal ?? code}); restarting it in 2 s`);
      setTimeout(() => launch(name, command, args, cwd, restart, extraEnv), 2000);
    } else {
      console.error(`${name} exited (${signal ?? code}); stopping`);
      void shutdown(1);
    }
  });
  return child;
}
// Each service is one node process: `node --import tsx` runs TypeScript without the tsx CLI's
// second process, and the preload ends it if this supervisor dies (no guard process either).
const node = process.execPath;
const exitWithSupervisor = ["--require", resolve(root, "apps/hub/scripts/exit-with-supervisor.cjs")];
const typescript = [...exitWithSupervisor, "--import", "tsx"];
for (let i = 0; i < settings.WORKERS; i++) launch(`worker ${i + 1}`, node, [...typescript, resolve(root, "apps/worker/src/main.ts")], root, true);
launch("tile service", node, [...typescript, resolve(root, "apps/tiles/src/main.ts")], root, true);
console.log(
  `Tiles: ${env.TILES_PUBLIC_URL} (tile service, ${settings.TILE_PROCESSES} process${settings.TILE_PROCESSES > 1 ? "es" : ""}, on demand from the object store)`,
);
// The web process records each request's TCP peer for the audit (apps/hub/scripts/peer-address.cjs).
const peerAddress = `--require ${resolve(root, "apps/hub/scripts/peer-address.cjs")}`;
launch(
  "web app",
  node,
  [...exitWithSupervisor, resolve(root, "node_modules/next/dist/bin/next"), "start", "-p", String(port), "-H", settings.HOST],
  resolve(root, "apps/hub"),
  false,
  {
    NODE_OPTIONS: [process.env.NODE_OPTIONS, peerAddress].filter(Boolean).join(" "),
  },
);
void announceWhenReady(settings.AUTH_URL ?? `http://127.0.0.1:${port}`);

/** Migrates and seeds in a child process (scripts/seed-main.ts): what it loads is freed when it ends. */
async function runSeed() {
  const child = spawn(process.execPath, ["--import", "tsx", resolve(root, "apps/hub/scripts/seed-main.ts")], { cwd: root, env, stdio: "inherit" });
  const code = await new Promise<number | null>((done, fail) => child.on("error", fail).on("exit", (c) => done(c)));
  if (code !== 0) throw new Error(`migrating and seeding the database failed (exit ${code})`);
}

/** Says once, with the time taken, when the sign-in page answers (Next's own line names localhost). */
async function announceWhenReady(url: string) {
  while (!shuttingDown) {
    const ok = await fetch(`${url}/sign-in`, { redirect: "manual" }).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) return progress(`ready: open ${url}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function shutdown(code: number) {
  if (shuttingDown) return;
  shuttingDown = true;
  for (const child of children) child.kill("SIGTERM");
  await new Promise((r) => setTimeout(r, 1500));
  await embedded?.stop().catch(() => {});
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));
