/**
 * `npx tsx bench/backlog/profile-hub.ts [--batches N]`: where a backlog batch's time goes at the
 * hub, without HTTP: parsing the body (JSON + schema), then `registerIndexedSlides` against
 * in-process PGlite (the engine the embedded server runs) and a local folder store, per phase
 * (known references, cases, thumbnail object, slides, event), 500 records a batch with
 * thumbnails of the size the bench slides give (≈ 20 KB).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createEnrollmentToken, enrollNode, indexBatchInput, registerIndexedSlides } from "@pathx/api";
import { schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { createLocalStore } from "@pathx/storage";
import { encodeJpeg } from "@pathx/wsi";

const { values } = parseArgs({ options: { batches: { type: "string", default: "10" } } });
const batches = Number(values.batches);
const handle = await createTestDb();
const root = await mkdtemp(join(tmpdir(), "bench-backlog-hub-"));
const store = createLocalStore(root);
const [lab] = await handle.db.insert(schema.labs).values({ slug: "p", name: "P" }).returning();
const [user] = await handle.db.insert(schema.users).values({ email: "p@p.example", name: "P" }).returning();
const enrolled = await enrollNode(handle.db, (await createEnrollmentToken(handle.db, lab!.id, user!.id)).token, { name: "p-node" });
const node = { id: enrolled.nodeId, labId: lab!.id };
const noise = Buffer.alloc(256 * 192 * 3);
for (let i = 0; i < noise.length; i++) noise[i] = 128 + ((Math.sin(i * 0.37) * 60) | 0) + ((i * 2654435761) >>> 28);
const thumbnail = (await encodeJpeg({ width: 256, height: 192, data: noise }, 80)).toString("base64");

const phases = new Map<string, number>();
const add = (phase: string, ms: number) => phases.set(phase, (phases.get(phase) ?? 0) + ms);
// Phases inside registerIndexedSlides, timed at the database and the store.
const execute = handle.db.execute.bind(handle.db);
let statement = 0;
(handle.db as { execute: unknown }).execute = async (query: Parameters<typeof execute>[0]) => {
  const t = performance.now();
  try {
    return await execute(query);
  } finally {
    // registerIndexedSlides runs its raw statements in this order: known references, then the slides.
    add(statement++ % 2 === 0 ? "known references (one statement)" : "slides insert (one statement)", performance.now() - t);
  }
};
const put = store.put.bind(store);
store.put = async (...args) => {
  const t = performance.now();
  await put(...args);
  add("thumbnail object (one put)", performance.now() - t);
};
let total = 0;
for (let b = 0; b < batches; b++) {
  const body = JSON.stringify({
    records: Array.from({ length: 500 }, (_, i) => ({
      ref: `ref-profile-${b}-${String(i).padStart(6, "0")}`,
      fileName: `P${b}-${i}.tif`,
      size: 1_000_000,
      meta: { accessionNumber: `P${b}-${Math.floor(i / 3)}`, block: "A1", stain: "H&E", specimen: "", patientPseudonym: `hmac-sha256:${"ab".repeat(32)}` },
      image: { width: 2048, height: 1536, mppX: 0.25, mppY: 0.25, objectivePower: null, vendor: "generic-tiff" },
      thumbnail,
    })),
  });
  let t = performance.now();
  const { records } = indexBatchInput.parse(JSON.parse(body));
  add("body: JSON.parse + schema", performance.now() - t);
  t = performance.now();
  const answer = await registerIndexedSlides(handle.db, store, node, records);
  const ms = performance.now() - t;
  add("registerIndexedSlides (all)", ms);
  total += answer.registered;
}
console.log(
  `${total} records in ${batches} batches of 500; ${cpus().length} cores, load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
for (const [phase, ms] of phases)
  console.log(`${phase.padEnd(36)}${(ms / batches).toFixed(1).padStart(8)} ms/batch${((ms / total) * 1000).toFixed(1).padStart(8)} µs/record`);
await handle.close();
await rm(root, { recursive: true, force: true });
