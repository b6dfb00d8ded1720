import { resolve } from "node:path";
import { checkpointAllAuditChains, formatQueueMetrics, loadAuditSigningKey, pruneEvents, readApiEnv, readQueueCounts, runTilingWorker, startBoss } from "@pathx/api";
import { createDb, readDbEnv } from "@pathx/db";
import { createObjectStore, readStorageEnv } from "@pathx/storage";

// A tiling worker: its own process, any number of them against one database and store.
const dbEnv = readDbEnv();
if (!dbEnv.DATABASE_URL) {
  console.error("worker: DATABASE_URL is not set; start workers with npm start (embedded) or point them at PostgreSQL.");
  process.exit(2);
}
const storageEnv = readStorageEnv();
const handle = await createDb(dbEnv);
const store = createObjectStore({ ...storageEnv, STORAGE_DIR: resolve(storageEnv.STORAGE_DIR) });
const boss = await startBoss(dbEnv.DATABASE_URL, { role: "worker" });
await runTilingWorker(boss, { db: handle.db, store });
console.log(`[worker ${process.pid}] waiting for tiling jobs`);

// Live events are for clients that are connected or reconnecting: keep a day (EVENTS_KEEP_HOURS).
const apiEnv = readApiEnv();
const { EVENTS_KEEP_HOURS, PATHX_STACK, QUEUE_METRICS_SECONDS } = apiEnv;
const prune = () => pruneEvents(handle.db, EVENTS_KEEP_HOURS).catch((error: Error) => console.error(`[worker ${process.pid}] pruning events failed: ${error.message}`));
void prune();
setInterval(prune, 10 * 60_000).unref();

// Signed checkpoints of every lab's audit chain that moved, which the labs' nodes fetch as witnesses.
const auditKey = await loadAuditSigningKey(apiEnv);
const checkpoint = () =>
  checkpointAllAuditChains(handle.db, auditKey).catch((error: Error) => console.error(`[worker ${process.pid}] signing audit checkpoints failed: ${error.message}`));
void checkpoint();
setInterval(checkpoint, apiEnv.AUDIT_CHECKPOINT_MINUTES * 60_000).unref();

// In the cloud (PATHX_STACK set) the queue metrics that scale the workers go out as one
// CloudWatch Embedded Metric Format line a minute; the alarms take the maximum over workers.
if (PATHX_STACK) {
  const report = () =>
    readQueueCounts(handle.db)
      .then((counts) => process.stdout.write(`${formatQueueMetrics(PATHX_STACK, counts)}\n`))
      .catch((error: Error) => console.error(`[worker ${process.pid}] reading the queue for its metrics failed: ${error.message}`));
  void report();
  setInterval(report, QUEUE_METRICS_SECONDS * 1000).unref();
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  // Finish the slide in hand if it is quick; otherwise its job expires and another worker retries it.
  await boss.stop({ graceful: true, wait: true, timeout: 10_000 }).catch(() => {});
  await handle.close().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
