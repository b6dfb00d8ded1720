import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { labSlidesTopic } from "@pathx/api";
import { type DbHandle, createDb, readDbEnv, schema } from "@pathx/db";
import { startLocalPostgres } from "@pathx/db/test-support/postgres";
import { type EventStream, type StreamedEvent, runPathx, signInOverHttp } from "@pathx/node/test-support";
import { startLocalS3 } from "@pathx/storage/test-support";
import { pyramidImages, writeRepeatingSlide, writeTestTiff } from "@pathx/wsi/test-support";
import { seed } from "../scripts/seed";
import { type HubPart, startWebApp, startWorker } from "./test-support/hub-processes";

// Two hub web processes and two tiling workers on loopback against one PostgreSQL and one
// S3-compatible server (infra/), as behind a load balancer in the cloud; lab nodes publish
// through both hubs, browsers listen on both, and one worker dies mid-job.
// PATHX_TEST_PORT_OFFSET lets several checkouts run their suites side by side.
const PORT_OFFSET = Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0);
const WEB_PORTS = [3510 + PORT_OFFSET, 3511 + PORT_OFFSET] as const;
const PG_PORT = 54339 + PORT_OFFSET;
const S3_PORT = 45700 + PORT_OFFSET;
const EXPIRE_SECONDS = 20;
const LARGE = [10_000, 10_008] as const; // × 7 500 px: seconds of tiling each
const SMALL_COUNT = 6;
const VIEWERS = 200;
const pseudonymKey = "scale-out-pseudonym-key";

type Session = Awaited<ReturnType<typeof signInOverHttp>>;
let work: string;
let pg: ReturnType<typeof startLocalPostgres>;
let s3: Awaited<ReturnType<typeof startLocalS3>>;
let handle: DbHandle;
const parts: HubPart[] = [];
let hubs: (HubPart & { url: string })[];
let workers: HubPart[];
let labId: string;
let sessions: { onA: Session; onB: Session; southOnB: Session };
let nodes: Record<string, string>[];

const log = (line: string) => console.log(`[scale-out] ${line}`);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pathx-scale-"));
  await chmod(work, 0o755); // the PostgreSQL server runs as the postgres user
  pg = startLocalPostgres({ port: PG_PORT, dataDir: join(work, "pg") });
  s3 = await startLocalS3({ port: S3_PORT, dataDir: join(work, "s3") });
  const env: Record<string, string> = {
    // One role for everything, as on RDS (terraform/): the queue creates its schema itself.
    DATABASE_URL: pg.migrationUrl,
    S3_ENDPOINT: s3.S3_ENDPOINT!,
    S3_REGION: s3.S3_REGION,
    S3_BUCKET: s3.S3_BUCKET!,
    S3_ACCESS_KEY_ID: s3.S3_ACCESS_KEY_ID!,
    S3_SECRET_ACCESS_KEY: s3.S3_SECRET_ACCESS_KEY!,
    AUTH_SECRET: "scale-out-secret-shared-by-every-hub",
    TILE_JOB_EXPIRE_SECONDS: String(EXPIRE_SECONDS),
    QUEUE_MAINTENANCE_SECONDS: "2",
    TILE_RETRY_DELAY_SECONDS: "1",
  };
  await seed({ demoSlides: false, env });
  handle = await createDb(readDbEnv({ DATABASE_URL: pg.migrationUrl }));
  hubs = await Promise.all(WEB_PORTS.map((port) => startWebApp({ port, env })));
  workers = await Promise.all([1, 2].map((n) => startWorker({ name: `worker ${n}`, env })));
  parts.push(...hubs, ...workers);
  const admin = await signInOverHttp(hubs[0]!.url, "admin@north.example");
  sessions = {
    onA: await signInOverHttp(hubs[0]!.url, "pathologist@north.example"),
    onB: await signInOverHttp(hubs[1]!.url, "pathologist@north.example"),
    southOnB: await signInOverHttp(hubs[1]!.url, "pathologist@south.example"),
  };
  labId = (await sessions.onA.query<{ lab: { labId: string } }>("me")).lab.labId;
  // One node per hub; both tokens come from hub A, one is redeemed at hub B.
  nodes = [];
  for (const [i, hub] of hubs.entries()) {
    const { token } = await admin.mutate<{ token: string }>("nodes.createEnrollmentToken");
    const nodeEnv = { PATHX_NODE_CONFIG: join(work, `node-${i}`, "node.json"), PATHX_PSEUDONYM_KEY: pseudonymKey };
    const enrolled = await runPathx(["node", "enroll", "--hub", hub.url, "--token", token, "--name", `node-${i}`], nodeEnv);
    expect(enrolled.stderr).toBe("");
    nodes.push(nodeEnv);
  }
}, 300_000);

afterAll(async () => {
  for (const part of parts) await part.stop().catch(() => {});
  await handle?.close().catch(() => {});
  s3?.stop();
  pg?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function publish(node: Record<string, string>, file: string, accession: string): Promise<string> {
  const result = await runPathx(["node", "publish", file, "--case", accession, "--block", "A1", "--stain", "H&E", "--patient", accession], node);
  expect(result.stderr).toBe("");
  const id = /slide ([0-9a-f-]{36})/.exec(result.stdout)?.[1];
  if (!id) throw new Error(`publish printed no slide id: ${result.stdout}`);
  return id;
}

const slideEvent = (slideId: string, status: string) => (e: StreamedEvent) => e.payload.slideId === slideId && e.payload.status === status;
const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

it("runs 2 hubs and 2 workers on one PostgreSQL and S3: events reach every hub, each slide is tiled once, a killed worker's job is finished by the other", async () => {
  const topic = labSlidesTopic(labId);
  const [{ last } = { last: 0 }] = await handle.db.select({ last: sql<string>`coalesce(max(${schema.events.id}), 0)` }).from(schema.events);
  const startId = Number(last);
  // Each hub streams to a browser signed in at the other hub: the session is valid everywhere.
  const streams: EventStream[] = [await sessions.onB.events([topic], { hub: hubs[0]!.url }), await sessions.onA.events([topic], { hub: hubs[1]!.url })];
  expect(streams.map((s) => s.status)).toEqual([200, 200]);
  // Many more browsers on the dashboard, half on each hub: each hub reads an event once and fans it out.
  const viewers = await Promise.all(
    Array.from({ length: VIEWERS }, (_, i) => (i % 2 ? sessions.onA : sessions.onB).events([topic], { hub: hubs[i % 2]!.url })),
  );
  expect(viewers.every((v) => v.status === 200)).toBe(true);
  // Another lab's topic is refused.
  const refused = await sessions.southOnB.events([topic], { hub: hubs[0]!.url });
  expect(refused.status).toBe(403);

  const files = { large: [] as string[], small: [] as string[] };
  for (const [i, width] of LARGE.entries()) {
    files.large.push(join(work, `L${i}.tif`));
    await writeRepeatingSlide(files.large[i]!, width, 7500, { micronsPerPixel: 0.25 });
  }
  for (let i = 0; i < SMALL_COUNT; i++) {
    files.small.push(join(work, `S${i}.tif`));
    await writeFile(files.small[i]!, writeTestTiff(pyramidImages(1600, 1200, 256, 2, { pixelsPerCm: 40_000, description: `scale-out slide ${i}` })).bytes);
  }
  const publishedVia = new Map<string, number>(); // slide → index of the hub it came through
  const megapixels = (LARGE.reduce((a, w) => a + w * 7500, 0) + SMALL_COUNT * 1600 * 1200) / 1e6;

  // The two large slides first, one through each hub.
  const started = Date.now();
  const large = await Promise.all(files.large.map((file, i) => publish(nodes[i]!, file, `N26-80${i}0`)));
  large.forEach((id, i) => {
    publishedVia.set(id, i);
  });

  // Once one is well under way, kill -9 the worker tiling it.
  const underWay = await streams[0]!.waitFor(
    (e) =>
      large.includes(e.payload.slideId as string) &&
      e.payload.status === "ready" &&
      (e.payload.progress as number) >= 0.1 &&
      (e.payload.progress as number) < 1,
  );
  const victimSlide = underWay.payload.slideId as string;
  const victim = workers.find((w) => w.output().includes(`tiling slide ${victimSlide}`) && !w.output().includes(`slide ${victimSlide} ready`));
  expect(victim).toBeDefined();
  const survivor = workers.find((w) => w !== victim)!;
  await victim!.kill9();
  const killedAt = Date.now();
  log(`killed ${victim!.name} (kill -9) with slide ${victimSlide} at ${Math.round((underWay.payload.progress as number) * 100)} %`);
  const retried = survivor.waitForOutput(new RegExp(`tiling slide ${victimSlide}`), EXPIRE_SECONDS * 6).then(() => Date.now());

  // The small slides meanwhile, half through each hub.
  const small = (
    await Promise.all(
      [0, 1].map(async (hub) => {
        const ids: string[] = [];
        for (let i = hub; i < SMALL_COUNT; i += 2) ids.push(await publish(nodes[hub]!, files.small[i]!, `N26-81${i}0`));
        ids.forEach((id) => {
          publishedVia.set(id, hub);
        });
        return ids;
      }),
    )
  ).flat();
  const all = [...large, ...small];

  // "ready" opens a slide (progress 0), progress events follow, and one completion (progress 1)
  // ends its background job: every slide's completion reaches both hubs' clients.
  const completion = (id: string) => (e: StreamedEvent) => slideEvent(id, "ready")(e) && e.payload.progress === 1;
  const opening = (id: string) => (e: StreamedEvent) => slideEvent(id, "ready")(e) && e.payload.progress === 0;
  for (const stream of streams) for (const id of all) await stream.waitFor(completion(id), EXPIRE_SECONDS * 10);
  const finished = Date.now();
  const retriedAt = await retried;
  const victimReadyAt = streams[0]!.events.find(completion(victimSlide))!.receivedAt;

  // Ready, and completed exactly once: one completion recorded, one "ready" logged, one ready event.
  for (const id of all) expect((await sessions.onA.query<{ status: string }>("slides.get", { id })).status).toBe("ready");
  // The completion event is written in the transaction that counts the run, so both are in.
  const rows = await handle.db
    .select({ id: schema.slides.id, status: schema.slides.status, runs: schema.slides.tilingRuns })
    .from(schema.slides)
    .where(inArray(schema.slides.id, all));
  expect(rows.map((r) => [r.status, r.runs])).toEqual(all.map(() => ["ready", 1]));
  const logs = workers.map((w) => w.output()).join("\n");
  for (const id of all) expect(logs.match(new RegExp(`slide ${id} ready in`, "g"))).toHaveLength(1);
  expect(victim!.output()).not.toContain(`slide ${victimSlide} ready`);
  for (const stream of streams) for (const id of all) expect(stream.events.filter(completion(id))).toHaveLength(1);
  for (const stream of streams) for (const id of all) expect(stream.events.filter(opening(id))).toHaveLength(1);

  // Every event of the lab's topic reached both hubs' clients, once each, in order.
  const recorded = (
    await handle.db
      .select({ id: schema.events.id })
      .from(schema.events)
      .where(and(eq(schema.events.topic, topic), gt(schema.events.id, startId)))
      .orderBy(asc(schema.events.id))
  ).map((r) => r.id);
  for (const stream of [...streams, ...viewers]) await stream.waitFor((e) => e.id === recorded.at(-1), EXPIRE_SECONDS * 10);
  for (const stream of [...streams, ...viewers]) expect(stream.events.map((e) => e.id)).toEqual(recorded);
  for (const id of all) for (const stream of streams) expect(stream.events.some(slideEvent(id, "received"))).toBe(true);

  // Figures for DEPLOYMENT.md.
  const latencies = streams.flatMap((s) => s.events.map((e) => e.receivedAt - e.at));
  // "received" is published by the hub the node uploaded to; measured at the other hub's client.
  const hubToHub = streams.flatMap((s, at) =>
    s.events.filter((e) => e.payload.status === "received" && publishedVia.get(e.payload.slideId as string) !== at).map((e) => e.receivedAt - e.at),
  );
  const seconds = (finished - started) / 1000;
  log(
    `${all.length} slides (${megapixels.toFixed(0)} MP) published through 2 hubs and tiled by 2 workers (one killed) in ${seconds.toFixed(1)} s: ${(all.length / seconds).toFixed(2)} slides/s, ${(megapixels / seconds).toFixed(1)} MP/s`,
  );
  log(
    `recovery after the kill: job retried by ${survivor.name} after ${((retriedAt - killedAt) / 1000).toFixed(1)} s (expiry ${EXPIRE_SECONDS} s from its start), slide ready ${((victimReadyAt - killedAt) / 1000).toFixed(1)} s after the kill`,
  );
  // Workers publish tiling progress between CPU-bound stretches, so their events wait for the worker's own event loop to commit.
  const fromWorkers = streams.flatMap((s) => s.events.filter((e) => e.payload.status !== "received").map((e) => e.receivedAt - e.at));
  log(
    `events: ${recorded.length} on ${topic.replace(labId, "<lab>")}, all on both hubs; insert→client median ${quantile(latencies, 0.5)} ms, p95 ${quantile(latencies, 0.95)} ms, max ${Math.max(...latencies)} ms`,
  );
  const toViewers = viewers.flatMap((v) => v.events.map((e) => e.receivedAt - e.at));
  log(
    `  the same events to ${VIEWERS} more dashboard streams (${VIEWERS / 2} per hub): median ${quantile(toViewers, 0.5)} ms, p95 ${quantile(toViewers, 0.95)} ms, ${toViewers.length} deliveries`,
  );
  log(`  of those published by the busy workers: median ${quantile(fromWorkers, 0.5)} ms, p95 ${quantile(fromWorkers, 0.95)} ms`);
  log(
    `hub→hub (published by one hub, received through the other): median ${quantile(hubToHub, 0.5)} ms, max ${Math.max(...hubToHub)} ms over ${hubToHub.length}`,
  );
  for (const line of logs.match(/slide \S+ ready in [\d.]+ s/g) ?? []) if (large.some((id) => line.includes(id))) log(`large slide (75 MP): ${line}`);
  for (const stream of [...streams, ...viewers]) stream.close();
  refused.close();
}, 600_000);
