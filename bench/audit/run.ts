/**
 * `npm run -w bench audit [-- --db postgres,pglite --cases writes,verify,node --labs 50 --per-lab 100 --verify 100000 --repeat 3]`:
 * audit chain writes per second with every lab writing at once, and how long verifying a chain
 * of 100 000 entries takes (target: under 2 s).
 *
 * - writes: 50 labs append through `recordAudit` at once (per-lab advisory lock, head read,
 *   hash, insert checked by the trigger); every chain is checked gap-free afterwards.
 * - verify (hub side): one lab's chain of --verify entries, checked by the operator's command
 *   `apps/hub/scripts/audit-verify.ts --lab <slug>` run as its own process, against
 *   PostgreSQL (app role, infra/postgres.sh), the embedded PGlite server (`npm start` running;
 *   the server lives in this process, as in scripts/run.ts) and PGlite opened in process
 *   (hub stopped, PGLITE_DIR). Also `verifyAuditChain` inside this process, for its CPU time.
 * - node: the hub as `npm start` runs it (built: scripts/lib/ensure.sh ensure_hub_build), a lab
 *   node enrolled with `pathx`, --verify entries added to that lab's chain, then
 *   `pathx audit verify` (pages over HTTP, witnesses) timed as a command.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { GENESIS_HASH, hashEntry } from "@pathx/audit";
import { checkpointAuditChain, loadAuditSigningKey, recordAudit, verifyAuditChain } from "@pathx/api";
import { type Db, createDb, readAuditHead, readDbEnv, schema, startEmbeddedDbServer } from "@pathx/db";
import { startLocalPostgres } from "@pathx/db/test-support/postgres";
import { pathxBin, runPathx, signInOverHttp, startHubProcess } from "@pathx/node/test-support";
import { eq } from "drizzle-orm";
import { childrenCpuSeconds, machineBusySeconds, processTree } from "../lib/measure";

const offset = Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0);
const { values } = parseArgs({
  options: {
    db: { type: "string", default: "postgres,pglite" },
    cases: { type: "string", default: "writes,verify,node" },
    labs: { type: "string", default: "50" },
    "per-lab": { type: "string", default: "100" },
    verify: { type: "string", default: "100000" },
    repeat: { type: "string", default: "3" },
    port: { type: "string", default: String(45790 + offset) },
    "hub-port": { type: "string", default: String(3495 + offset) },
  },
});
const databases = new Set(values.db.split(","));
const cases = new Set(values.cases.split(","));
const labCount = Number(values.labs);
const perLab = Number(values["per-lab"]);
const verifyCount = Number(values.verify);
const repeat = Number(values.repeat);
const root = resolve(import.meta.dirname, "../..");
const tsx = join(root, "node_modules/.bin/tsx");
const work = await mkdtemp(join(tmpdir(), "bench-audit-"));
const keyFile = join(work, "key.pem");
const key = await loadAuditSigningKey({ AUDIT_KEY_FILE: keyFile });
const results: string[] = [];

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
function report(line: string) {
  console.log(line);
  results.push(line);
}

async function makeLabs(db: Db, n: number, tag: string) {
  return db
    .insert(schema.labs)
    .values(Array.from({ length: n }, (_, i) => ({ slug: `${tag}-${Date.now()}-${i}`, name: `Bench ${i}` })))
    .returning({ id: schema.labs.id, slug: schema.labs.slug });
}

/** Every lab's writer appends `perLab` entries, all labs at once; entries per second overall. */
async function measureWrites(db: Db, label: string) {
  const labs = await makeLabs(db, labCount, "w");
  const loadBefore = load();
  const started = performance.now();
  await Promise.all(
    labs.map(async (lab) => {
      for (let i = 0; i < perLab; i++)
        await recordAudit(db, {
          labId: lab.id,
          actorUserId: null,
          action: "slide.view",
          targetType: "slide",
          targetId: `s${i}`,
          detail: { via: "grant" },
          ip: "192.0.2.1",
        });
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  for (const lab of labs) {
    const verified = await verifyAuditChain(db, key.publicKey, lab.id);
    if (!verified.ok || verified.length !== perLab) throw new Error(`chain of a bench lab is not intact: ${JSON.stringify(verified)}`);
  }
  const total = labCount * perLab;
  report(
    `${label} writes: ${total} entries by ${labCount} labs at once in ${seconds.toFixed(1)} s = ${Math.round(total / seconds)} writes/s (every chain verified gap-free; load ${loadBefore} → ${load()})`,
  );
}

/** Appends `count` entries to a lab's chain in batches of 1 000 (the trigger checks each link); the hub may have started it. */
async function extendChain(db: Db, labId: string, count: number) {
  const head = await readAuditHead(db, labId);
  let prev = head.hash ?? GENESIS_HASH;
  const t0 = Date.UTC(2026, 0, 1);
  for (let from = head.seq + 1, last = head.seq + count; from <= last; from += 1000) {
    const rows = [];
    for (let seq = from; seq < Math.min(from + 1000, last + 1); seq++) {
      // Entries as the hub writes them: a viewer from another lab, a slide, a small detail, the client's address.
      const entry = {
        labId,
        seq,
        prevHash: prev,
        createdAt: new Date(t0 + seq * 1000).toISOString(),
        actorUserId: labId,
        action: "slide.view",
        targetType: "slide",
        targetId: `slide-${seq % 500}`,
        detail: { via: "grant", viewerLabId: labId },
        ip: "192.0.2.1",
      };
      prev = hashEntry(entry);
      rows.push({ ...entry, createdAt: new Date(entry.createdAt), hash: prev });
    }
    await db.insert(schema.auditEvents).values(rows);
  }
}

/** A command as its own process: exit code, output, wall seconds, its CPU seconds and how busy the whole machine was meanwhile. */
async function runCommand(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = root) {
  const [cpuBefore, busyBefore] = [await childrenCpuSeconds(), await machineBusySeconds()];
  const started = performance.now();
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number>((done) => child.on("close", (c) => done(c ?? 1)));
  const seconds = (performance.now() - started) / 1000;
  return { code, output, seconds, cpuSeconds: (await childrenCpuSeconds()) - cpuBefore, machineCores: ((await machineBusySeconds()) - busyBefore) / seconds };
}

/** CPU seconds the local PostgreSQL has used: the postmaster and its backends (exited ones counted through the postmaster's children times). */
async function postgresCpuSeconds(): Promise<number> {
  const pid = Number((await readFile(join(root, ".data/pg/cluster/postmaster.pid"), "utf8")).split("\n")[0]);
  return (await processTree(pid)).reduce((sum, p) => sum + p.cpuSeconds, 0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The operator's `audit:verify --lab <slug>` as a process, `repeat` times: the verification's own
 * time (it prints "(N ms)") and the whole command's; then `verifyAuditChain` in this process.
 */
async function measureVerify(label: string, env: NodeJS.ProcessEnv, slug: string, inProcess?: { db: Db; labId: string }, serverCpu?: () => Promise<number>) {
  const runs: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const loadBefore = load();
    const serverBefore = await serverCpu?.();
    const run = await runCommand(tsx, [join(root, "apps/hub/scripts/audit-verify.ts"), "--lab", slug], env, join(root, "apps/hub"));
    const server = serverCpu ? `; database server ${((await serverCpu()) - serverBefore!).toFixed(2)} CPU-s` : "";
    const ms = /: OK, (\d+) entries.*\((\d+) ms\)/.exec(run.output);
    if (run.code !== 0 || !ms || Number(ms[1]) < verifyCount) throw new Error(`audit:verify failed (${run.code}):\n${run.output}`);
    runs.push(Number(ms[2]) / 1000);
    report(
      `${label} verify ${ms[1]} entries, audit:verify run ${i + 1}: ${(Number(ms[2]) / 1000).toFixed(2)} s verifying (target < 2 s), ${run.seconds.toFixed(2)} s the whole command ` +
        `(${run.cpuSeconds.toFixed(2)} CPU-s incl. tsx start-up${server}; machine busy ${run.machineCores.toFixed(1)} of ${cpus().length} cores; load ${loadBefore} → ${load()})`,
    );
  }
  report(`${label} verify: median ${median(runs).toFixed(2)} s of ${runs.length} runs — target ${median(runs) < 2 ? "met" : "MISSED"}`);
  if (inProcess) {
    const serverBefore = await serverCpu?.();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const verified = await verifyAuditChain(inProcess.db, key.publicKey, inProcess.labId);
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const server = serverCpu ? `, database server ${((await serverCpu()) - serverBefore!).toFixed(2)} CPU-s` : "";
    if (!verified.ok) throw new Error(`verification failed: ${JSON.stringify(verified)}`);
    report(
      `${label} verify in the bench process: ${seconds.toFixed(2)} s, ${((used.user + used.system) / 1e6).toFixed(2)} CPU-s in this process${server} (load ${load()})`,
    );
  }
}

/** A database as the hub's processes reach it (for the embedded server: in another process's place). */
const clientEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, AUDIT_KEY_FILE: keyFile, ...extra };
  if (!extra.DATABASE_URL) delete env.DATABASE_URL;
  return env;
};

async function benchPostgres() {
  // infra/postgres.sh's cluster (the postgres user must reach its folder: not a private temp dir).
  const pg = startLocalPostgres();
  const owner = await createDb(readDbEnv({ DATABASE_URL: pg.migrationUrl }));
  const app = await createDb(readDbEnv({ DATABASE_URL: pg.databaseUrl }));
  try {
    await owner.migrate();
    if (cases.has("writes")) await measureWrites(app.db, "PostgreSQL (app role)");
    if (cases.has("verify")) {
      const [lab] = await makeLabs(app.db, 1, "v");
      await extendChain(app.db, lab!.id, verifyCount);
      await checkpointAuditChain(app.db, key, lab!.id);
      await measureVerify("PostgreSQL (app role)", clientEnv({ DATABASE_URL: pg.databaseUrl }), lab!.slug, { db: app.db, labId: lab!.id }, postgresCpuSeconds);
    }
  } finally {
    await app.close();
    await owner.close();
    pg.stop();
  }
}

async function benchPglite() {
  const dataDir = join(work, "pglite");
  const server = await startEmbeddedDbServer({ dataDir, port: Number(values.port) });
  const embedded = await createDb(readDbEnv({ DATABASE_URL: server.url, DATABASE_PREPARE: "false" }));
  let chain: { id: string; slug: string } | undefined;
  try {
    await embedded.migrate();
    if (cases.has("writes")) await measureWrites(embedded.db, "PGlite (embedded server)");
    if (cases.has("verify")) {
      [chain] = await makeLabs(embedded.db, 1, "v");
      await extendChain(embedded.db, chain!.id, verifyCount);
      await checkpointAuditChain(embedded.db, key, chain!.id);
      // The server runs in this process, so this process's CPU is the database's.
      const serverCpu = async () => {
        const used = process.cpuUsage();
        return (used.user + used.system) / 1e6;
      };
      await measureVerify(
        "PGlite (embedded server, hub running)",
        clientEnv({ DATABASE_URL: server.url, DATABASE_PREPARE: "false" }),
        chain!.slug,
        undefined,
        serverCpu,
      );
    }
  } finally {
    await embedded.close();
    await server.stop();
  }
  // The hub stopped: audit:verify opens the PGlite folder itself.
  if (chain) await measureVerify("PGlite (in process, hub stopped)", clientEnv({ PGLITE_DIR: dataDir }), chain.slug);
}

/** `pathx audit verify` on a lab node against the hub as `npm start` runs it (embedded PGlite). */
async function benchNode() {
  const hub = await startHubProcess({ port: Number(values["hub-port"]), dataDir: join(work, "hub") });
  try {
    const admin = await signInOverHttp(hub.url, "admin@north.example");
    const { token } = await admin.mutate<{ token: string }>("nodes.createEnrollmentToken");
    const nodeEnv = { PATHX_NODE_CONFIG: join(work, "node", "node.json") };
    const enrolled = await runPathx(["node", "enroll", "--hub", hub.url, "--token", token, "--name", "bench-node"], nodeEnv);
    if (enrolled.code !== 0) throw new Error(`enrolment failed: ${enrolled.stderr}`);
    const db = await createDb(readDbEnv({ DATABASE_URL: hub.databaseUrl, DATABASE_PREPARE: "false" }));
    try {
      const [north] = await db.db.select({ id: schema.labs.id }).from(schema.labs).where(eq(schema.labs.slug, "north"));
      await extendChain(db.db, north!.id, verifyCount);
    } finally {
      await db.close();
    }
    if ((await runPathx(["audit", "pull"], nodeEnv)).code !== 0) throw new Error("pathx audit pull failed");
    const runs: number[] = [];
    // The hub's CPU by part: the web app (next-server), the process holding the embedded PGlite server (scripts/run.ts), the rest.
    const hubCpu = async () => {
      const parts = { web: 0, database: 0, other: 0 };
      for (const p of await processTree(hub.pid()!))
        parts[p.command.includes("next-server") ? "web" : p.command.endsWith("scripts/run.ts") ? "database" : "other"] += p.cpuSeconds;
      return parts;
    };
    for (let i = 0; i < repeat; i++) {
      const loadBefore = load();
      const hubBefore = await hubCpu();
      const run = await runCommand(process.execPath, [pathxBin, "audit", "verify"], { ...process.env, ...nodeEnv });
      const hubAfter = await hubCpu();
      const [, entries, ms] = /OK, (\d+) entries.*\((\d+) ms\)/.exec(run.output) ?? [];
      if (run.code !== 0 || !entries) throw new Error(`pathx audit verify failed (${run.code}):\n${run.output}`);
      runs.push(Number(ms) / 1000);
      report(
        `Lab node (pathx audit verify, hub on embedded PGlite) run ${i + 1}: ${entries} entries, ${(Number(ms) / 1000).toFixed(2)} s verifying (target < 2 s), ${run.seconds.toFixed(2)} s the whole command ` +
          `(${run.cpuSeconds.toFixed(2)} CPU-s in pathx; hub: embedded database ${(hubAfter.database - hubBefore.database).toFixed(2)}, web app ${(hubAfter.web - hubBefore.web).toFixed(2)}, ` +
          `other ${(hubAfter.other - hubBefore.other).toFixed(2)} CPU-s; machine busy ${run.machineCores.toFixed(1)} of ${cpus().length} cores; load ${loadBefore} → ${load()})`,
      );
    }
    report(`Lab node verify: median ${median(runs).toFixed(2)} s of ${runs.length} runs — target ${median(runs) < 2 ? "met" : "MISSED"}`);
  } finally {
    await hub.stop();
  }
}

try {
  console.log(`bench/audit on ${cpus().length} cores, load average ${load()}`);
  if (databases.has("postgres")) await benchPostgres();
  if (databases.has("pglite")) await benchPglite();
  if (cases.has("node")) await benchNode();
  console.log(`\nSummary (load average now ${load()}):\n${results.join("\n")}`);
} finally {
  await rm(work, { recursive: true, force: true });
}
