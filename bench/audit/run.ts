/**
 * `npm run -w bench audit [-- --labs 50 --per-lab 100 --verify 100000 --postgres]`: audit chain
 * writes per second with every lab writing at once, and verification speed
 * (target: 100 000 entries verified in under 2 s).
 *
 * Writes go through `recordAudit` (per-lab advisory lock, head read, hash, insert checked by the
 * trigger) against the embedded PGlite server the hub uses (`npm start`), and with --postgres
 * against a local PostgreSQL (infra/postgres.sh) as the app role. Verification walks one lab's
 * chain of --verify entries in pages; the reference in the same run is reading the same rows
 * without checking anything (the floor any verifier pays).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ChainVerifier, GENESIS_HASH, hashEntry } from "@pathx/audit";
import { loadAuditSigningKey, readAuditChainPage, recordAudit, verifyAuditChain } from "@pathx/api";
import { type Db, createDb, readDbEnv, schema, startEmbeddedDbServer } from "@pathx/db";
import { startLocalPostgres } from "@pathx/db/test-support/postgres";

const { values } = parseArgs({
  options: {
    labs: { type: "string", default: "50" },
    "per-lab": { type: "string", default: "100" },
    verify: { type: "string", default: "100000" },
    postgres: { type: "boolean", default: false },
    port: { type: "string", default: String(45790 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0)) },
  },
});
const labCount = Number(values.labs);
const perLab = Number(values["per-lab"]);
const verifyCount = Number(values.verify);
const work = await mkdtemp(join(tmpdir(), "bench-audit-"));
const key = await loadAuditSigningKey({ AUDIT_KEY_FILE: join(work, "key.pem") });

async function makeLabs(db: Db, n: number, tag: string) {
  return db.insert(schema.labs).values(Array.from({ length: n }, (_, i) => ({ slug: `${tag}-${Date.now()}-${i}`, name: `Bench ${i}` }))).returning({ id: schema.labs.id });
}

/** Every lab's writer appends `perLab` entries, all labs at once; entries per second overall. */
async function measureWrites(db: Db, label: string) {
  const labs = await makeLabs(db, labCount, "w");
  const started = performance.now();
  await Promise.all(
    labs.map(async (lab) => {
      for (let i = 0; i < perLab; i++) await recordAudit(db, { labId: lab.id, actorUserId: null, action: "slide.view", targetType: "slide", targetId: `s${i}`, detail: { via: "grant" }, ip: "192.0.2.1" });
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const total = labCount * perLab;
  for (const lab of labs.slice(0, 3)) {
    const report = await verifyAuditChain(db, key.publicKey, lab.id);
    if (!report.ok || report.length !== perLab) throw new Error(`chain of a bench lab is not intact: ${JSON.stringify(report)}`);
  }
  console.log(`${label}: ${total} audit writes by ${labCount} labs at once in ${seconds.toFixed(1)} s = ${Math.round(total / seconds)} writes/s (chains checked gap-free)`);
}

/** One lab's chain of `count` entries, inserted in batches through the trigger (which checks each link). */
async function fillChain(db: Db, count: number): Promise<string> {
  const [lab] = await makeLabs(db, 1, "v");
  let prev = GENESIS_HASH;
  const t0 = Date.UTC(2026, 0, 1);
  for (let from = 1; from <= count; from += 1000) {
    const rows = [];
    for (let seq = from; seq < Math.min(from + 1000, count + 1); seq++) {
      const entry = { labId: lab!.id, seq, prevHash: prev, createdAt: new Date(t0 + seq * 1000).toISOString(), actorUserId: null, action: "slide.view", targetType: "slide", targetId: `slide-${seq % 500}`, detail: { via: "grant", viewerLabId: lab!.id }, ip: "192.0.2.1" };
      prev = hashEntry(entry);
      rows.push({ ...entry, createdAt: new Date(entry.createdAt), hash: prev });
    }
    await db.insert(schema.auditEvents).values(rows);
  }
  return lab!.id;
}

async function measureVerify(db: Db, label: string) {
  const labId = await fillChain(db, verifyCount);
  let read = 0;
  const readStart = performance.now();
  for (let after = 0; ; ) {
    const page = await readAuditChainPage(db, labId, after, 5000);
    read += page.length;
    if (page.length < 5000) break;
    after = page[page.length - 1]!.seq;
  }
  const readSeconds = (performance.now() - readStart) / 1000;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  const report = await verifyAuditChain(db, key.publicKey, labId);
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  // The checking alone, on entries already in memory (what the node does after its HTTP pages arrive).
  const entries = [];
  for (let after = 0; ; ) {
    const page = await readAuditChainPage(db, labId, after, 5000);
    entries.push(...page);
    if (page.length < 5000) break;
    after = page[page.length - 1]!.seq;
  }
  const checkStart = performance.now();
  const checkCpu = process.cpuUsage();
  const verifier = new ChainVerifier(labId, [], key.publicKey);
  for (const entry of entries) verifier.add(entry);
  const checkSeconds = (performance.now() - checkStart) / 1000;
  const checkCpuSeconds = (process.cpuUsage(checkCpu).user + process.cpuUsage(checkCpu).system) / 1e6;
  if (!verifier.report().ok) throw new Error("in-memory verification failed");
  if (!report.ok || report.length !== verifyCount || read !== verifyCount) throw new Error(`verification failed: ${JSON.stringify(report)}`);
  console.log(
    `${label}: verified ${verifyCount} entries in ${seconds.toFixed(2)} s (${Math.round(verifyCount / seconds)} entries/s; target < 2 s: ${seconds < 2 ? "met" : "MISSED"}); ` +
      `reading the same rows alone takes ${readSeconds.toFixed(2)} s; this process used ${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU-s for the whole verification; ` +
      `checking the ${verifyCount} entries in memory: ${checkSeconds.toFixed(2)} s (${checkCpuSeconds.toFixed(2)} CPU-s). Load average ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores.`,
  );
}

try {
  const server = await startEmbeddedDbServer({ dataDir: join(work, "pglite"), port: Number(values.port) });
  const embedded = await createDb(readDbEnv({ DATABASE_URL: server.url, DATABASE_PREPARE: "false" }));
  try {
    await embedded.migrate();
    await measureWrites(embedded.db, "PGlite (embedded server)");
    await measureVerify(embedded.db, "PGlite (embedded server)");
  } finally {
    await embedded.close();
    await server.stop();
  }
  if (values.postgres) {
    // infra/postgres.sh's cluster (the postgres user must reach its folder: not a private temp dir).
    const pg = startLocalPostgres();
    const owner = await createDb(readDbEnv({ DATABASE_URL: pg.migrationUrl }));
    const app = await createDb(readDbEnv({ DATABASE_URL: pg.databaseUrl }));
    try {
      await owner.migrate();
      await measureWrites(app.db, "PostgreSQL (app role)");
      await measureVerify(app.db, "PostgreSQL (app role)");
    } finally {
      await app.close();
      await owner.close();
      pg.stop();
    }
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
