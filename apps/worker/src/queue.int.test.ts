import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import type PgBoss from "pg-boss";
import { afterAll, describe, expect, it } from "vitest";
import { type DbHandle, createDb, readDbEnv, schema, startEmbeddedDbServer } from "@pathx/db";
import { startLocalPostgres } from "@pathx/db/test-support/postgres";
import { type ObjectStore, createLocalStore, createObjectStore } from "@pathx/storage";
import { startLocalS3 } from "@pathx/storage/test-support";
import { fixturePath, writeNdpi } from "@pathx/wsi/test-support";
import { TILE_QUEUE, createTilingQueue, startBoss } from "@pathx/runtime";
import { runTilingWorker } from "./tiling-job";
import { readQueueCounts } from "./queue-metrics";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function waitFor<T>(probe: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function seedSlide(handle: DbHandle, store: ObjectStore, sourceBytes: Uint8Array) {
  const slug = `lab-${randomBytes(4).toString("hex")}`;
  const [lab] = await handle.db.insert(schema.labs).values({ slug, name: slug }).returning();
  const [kase] = await handle.db.insert(schema.cases).values({ labId: lab!.id, accessionNumber: "Q-1", patientPseudonym: "p" }).returning();
  const key = `sources/${slug}/slide.svs`;
  await store.put(key, sourceBytes);
  const [slide] = await handle.db
    .insert(schema.slides)
    .values({ labId: lab!.id, caseId: kase!.id, fileName: "slide.svs", sizeBytes: sourceBytes.length, sha256: randomBytes(16).toString("hex"), sourceKey: key })
    .returning();
  return slide!.id;
}

const slideStatus = async (handle: DbHandle, id: string) => (await handle.db.select().from(schema.slides).where(eq(schema.slides.id, id)))[0]!;

type Setup = { databaseUrl: string; dbEnv: ReturnType<typeof readDbEnv>; store: ObjectStore };

async function embeddedSetup(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), "queue-"));
  const server = await startEmbeddedDbServer({ dataDir: join(dir, "pg"), port: 47000 + Math.floor(Math.random() * 1000) });
  cleanups.push(
    () => rm(dir, { recursive: true, force: true }),
    () => server.stop(),
  );
  return { databaseUrl: server.url, dbEnv: readDbEnv({ DATABASE_URL: server.url, DATABASE_PREPARE: "false" }), store: createLocalStore(join(dir, "objects")) };
}

async function realServicesSetup(): Promise<Setup> {
  const pg = startLocalPostgres();
  const s3 = await startLocalS3();
  // Stopped after the file (cleanups run last-in first-out, after the handles close).
  cleanups.unshift(
    async () => pg.stop(),
    async () => s3.stop(),
  );
  return { databaseUrl: pg.migrationUrl, dbEnv: readDbEnv({ DATABASE_URL: pg.migrationUrl }), store: createObjectStore(s3) };
}

describe.each([
  ["embedded PGlite server + local folder", embeddedSetup],
  ["PostgreSQL + S3 (s3rver)", realServicesSetup],
])("tiling queue on %s", (_name, setup) => {
  it("keeps jobs across restarts, retries a job whose worker died, bounds attempts and records why", async () => {
    const { databaseUrl, dbEnv, store } = await setup();
    const handle = await createDb(dbEnv);
    cleanups.push(() => handle.close());
    await handle.migrate();
    const slide = await readFile(fixturePath("CMU-1-Small-Region.svs"));

    // Short expiry and maintenance so a dead worker's job comes back within seconds.
    const options = { expireInSeconds: 2, maintenanceIntervalSeconds: 1, retryDelay: 1 } as const;
    // Queued while no worker runs, and the sender restarts: the job is still there.
    const goodId = await seedSlide(handle, store, slide);
    const sender = await startBoss(databaseUrl, { role: "sender", ...options });
    await createTilingQueue(sender).enqueueTiling(goodId);
    // What the workers report to CloudWatch to scale: one job waiting, none running.
    expect(await readQueueCounts(handle.db)).toEqual({ waiting: 1, active: 0 });
    await sender.stop({ graceful: false, wait: true });

    // A worker takes the job and dies (never completes it): it expires and is retried.
    const doomed: PgBoss = await startBoss(databaseUrl, { role: "sender", ...options });
    const [claimed] = await doomed.fetch<{ slideId: string }>(TILE_QUEUE);
    expect(claimed?.data.slideId).toBe(goodId);
    expect(await readQueueCounts(handle.db)).toEqual({ waiting: 0, active: 1 });
    await doomed.stop({ graceful: false, wait: true });

    const worker = await startBoss(databaseUrl, { role: "worker", ...options });
    cleanups.push(() => worker.stop({ graceful: false, wait: true }));
    await runTilingWorker(worker, { db: handle.db, store }, () => {});
    await waitFor(async () => ((await slideStatus(handle, goodId)).status === "ready" ? true : undefined), 90);
    expect((await slideStatus(handle, goodId)).width).toBe(2220);
    // From here on no attempt is given up on for being slow (a loaded machine can take more than
    // the 2 s above), so each retry counted below is the worker's own decision.
    await worker.updateQueue(TILE_QUEUE, { name: TILE_QUEUE, retryLimit: 2, retryDelay: 1, retryBackoff: true, expireInSeconds: 600 });

    // A Hamamatsu NDPI is read from the object store like any single-file slide (ranged reads).
    const ndpiPath = join(await mkdtemp(join(tmpdir(), "queue-ndpi-")), "slide.ndpi");
    await writeNdpi(ndpiPath, {
      levels: [
        { width: 1536, height: 768, restartInterval: 32 },
        { width: 768, height: 384, restartInterval: 0 },
      ],
    });
    const ndpiId = await seedSlide(handle, store, await readFile(ndpiPath));
    await createTilingQueue(worker).enqueueTiling(ndpiId);
    const ndpi = await waitFor(async () => {
      const row = await slideStatus(handle, ndpiId);
      return row.status === "ready" || row.status === "failed" ? row : undefined;
    }, 90);
    expect([ndpi.status, ndpi.failureReason, ndpi.width, ndpi.height]).toEqual(["ready", null, 1536, 768]);

    // A file that is not a slide is recorded as failed at once, with the reason, and not retried.
    const badId = await seedSlide(handle, store, Buffer.from("this is a pathology report, not a slide"));
    await createTilingQueue(worker).enqueueTiling(badId);
    const bad = await waitFor(async () => {
      const row = await slideStatus(handle, badId);
      return row.status === "failed" ? row : undefined;
    }, 60);
    expect(bad.failureReason).toMatch(/not a TIFF-based slide/);
    const jobOf = async (slideId: string) =>
      (
        (await handle.db.execute(sql`select state, retry_count from pgboss.job where name = ${TILE_QUEUE} and data->>'slideId' = ${slideId}`)) as unknown as {
          state: string;
          retry_count: number;
        }[]
      )[0];
    await waitFor(async () => ((await jobOf(badId))?.state === "completed" ? true : undefined), 30);
    expect((await jobOf(badId))?.retry_count).toBe(0);

    // A failure that may pass (here the source object is missing) is retried twice, then the job fails.
    const missingId = await seedSlide(handle, store, slide);
    const [missing] = await handle.db.select().from(schema.slides).where(eq(schema.slides.id, missingId));
    await store.delete(missing!.sourceKey!);
    await createTilingQueue(worker).enqueueTiling(missingId);
    const job = await waitFor(async () => {
      const row = await jobOf(missingId);
      return row?.state === "failed" ? row : undefined;
    }, 90);
    expect(job.retry_count).toBe(2);
    expect((await slideStatus(handle, missingId)).status).toBe("failed");
  });
});
