import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkpointAuditChain, loadAuditSigningKey, readApiEnv, verifyAuditChain } from "@pathx/api";
import { createDb, readDbEnv, schema } from "@pathx/db";
import { eq, or } from "drizzle-orm";

/**
 * `npm run -w apps/hub audit:verify -- [--lab ID|SLUG] [--checkpoint]`: walks each lab's audit
 * chain (or one lab's) in the hub's database against its signed checkpoints and prints the
 * first broken link; exits 1 if any chain is broken. With the hub's database settings
 * (DATABASE_URL, or PGLITE_DIR while the hub is stopped) and its signing key.
 */
const root = resolve(import.meta.dirname, "../../..");
const { values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { lab: { type: "string" }, checkpoint: { type: "boolean" } } });
const dbEnv = readDbEnv();
const apiEnv = readApiEnv();
const handle = await createDb({ ...dbEnv, PGLITE_DIR: dbEnv.PGLITE_DIR === "memory://" ? dbEnv.PGLITE_DIR : resolve(root, dbEnv.PGLITE_DIR) });
let broken = 0;
try {
  const key = await loadAuditSigningKey({ ...apiEnv, AUDIT_KEY_FILE: resolve(root, apiEnv.AUDIT_KEY_FILE) });
  const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(values.lab ?? "");
  const labs = await handle.db
    .select({ id: schema.labs.id, slug: schema.labs.slug, name: schema.labs.name })
    .from(schema.labs)
    .where(values.lab ? (isUuid ? or(eq(schema.labs.id, values.lab), eq(schema.labs.slug, values.lab)) : eq(schema.labs.slug, values.lab)) : undefined)
    .orderBy(schema.labs.slug);
  if (values.lab && labs.length === 0) {
    console.error(`audit:verify: no lab "${values.lab}" (give its id or slug).`);
    process.exit(2);
  }
  const chains: { id: string | null; label: string }[] = labs.map((l) => ({ id: l.id, label: `${l.name} (${l.slug})` }));
  if (!values.lab) chains.push({ id: null, label: "hub (acts of no single lab)" });
  for (const chain of chains) {
    if (values.checkpoint) await checkpointAuditChain(handle.db, key, chain.id);
    const started = performance.now();
    const report = await verifyAuditChain(handle.db, key.publicKey, chain.id);
    const took = `${Math.round(performance.now() - started)} ms`;
    if (report.ok)
      console.log(`${chain.label}: OK, ${report.length} entries, head ${report.headHash.slice(0, 16)}…, ${report.checkpoints} signed checkpoints (${took})`);
    else {
      broken++;
      console.log(`${chain.label}: BROKEN at entry ${report.broken!.seq}: ${report.broken!.problem} (entries 1–${report.length} intact)`);
    }
  }
} finally {
  await handle.close();
}
process.exit(broken ? 1 : 0);
