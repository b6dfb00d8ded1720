import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, createDb, readDbEnv, schema, startEmbeddedDbServer } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import type { SessionUser } from "../domain/users";
import { type BusEvent, type EventHub, createEventHub, publishEvent, publishEvents, pruneEvents } from "./bus";
import { labSlidesTopic, publishSlideChange, refusedTopics, slideTopic } from "./topics";

/** Resolves with the first `count` events the subscription delivers. */
function collect(hub: EventHub, topics: string[], count: number, sinceId?: number) {
  const got: BusEvent[] = [];
  let unsubscribe = () => {};
  const done = new Promise<BusEvent[]>((resolve) => {
    unsubscribe = hub.subscribe(topics, sinceId, (event) => {
      got.push(event);
      if (got.length === count) resolve(got);
    });
  });
  return { done: done.finally(() => unsubscribe()), got };
}

describe("event bus on one database (PGlite in process)", () => {
  let handle: DbHandle;
  let hub: EventHub;
  beforeAll(async () => {
    handle = await createTestDb();
    hub = await createEventHub(handle);
  }, 60_000);
  afterAll(async () => {
    await hub.close();
    await handle.close();
  });

  it("delivers each event on a subscribed topic once, in order, and nothing else", async () => {
    expect(hub.mode).toBe("listen");
    const wanted = collect(hub, ["t:a"], 3);
    await publishEvent(handle.db, { topic: "t:b", payload: { n: 0 } });
    await publishEvents(handle.db, [
      { topic: "t:a", payload: { n: 1 } },
      { topic: "t:b", payload: { n: 2 } },
      { topic: "t:a", payload: { n: 3 } },
    ]);
    await publishEvent(handle.db, { topic: "t:a", payload: { n: 4 } });
    const events = await wanted.done;
    expect(events.map((e) => (e.payload as { n: number }).n)).toEqual([1, 3, 4]);
    expect(events.map((e) => e.topic)).toEqual(["t:a", "t:a", "t:a"]);
    expect(events[0]!.id).toBeLessThan(events[1]!.id);
  });

  it("catches a reconnecting client up from its last event id, then carries on live without repeats", async () => {
    const first = await publishEvent(handle.db, { topic: "t:c", payload: { n: 1 } });
    await publishEvent(handle.db, { topic: "t:c", payload: { n: 2 } });
    await publishEvent(handle.db, { topic: "t:other", payload: { n: 0 } });
    await publishEvent(handle.db, { topic: "t:c", payload: { n: 3 } });
    // The hub has read all of them before the client comes back.
    await collect(hub, ["t:c"], 1, first).done;
    const resumed = collect(hub, ["t:c"], 3, first);
    await publishEvent(handle.db, { topic: "t:c", payload: { n: 4 } });
    expect((await resumed.done).map((e) => (e.payload as { n: number }).n)).toEqual([2, 3, 4]);
  });

  it("shows events with the change they belong to: a rolled-back transaction's never", async () => {
    const live = collect(hub, ["t:tx"], 1);
    await handle.db
      .transaction(async (tx) => {
        await publishEvent(tx, { topic: "t:tx", payload: { n: "rolled back" } });
        throw new Error("abort");
      })
      .catch(() => {});
    await handle.db.transaction(async (tx) => {
      await publishEvent(tx, { topic: "t:tx", payload: { n: "committed" } });
    });
    expect((await live.done).map((e) => e.payload)).toEqual([{ n: "committed" }]);
  });

  it("prunes events older than the retention", async () => {
    await publishEvent(handle.db, { topic: "t:old", payload: {} });
    await handle.db.execute(sql`update events set created_at = now() - interval '2 days' where topic = 't:old'`);
    expect(await pruneEvents(handle.db, 24)).toBe(1);
    expect(await handle.db.select().from(schema.events).where(sql`topic = 't:old'`)).toEqual([]);
  });

  it("lets a user subscribe only to their own labs' topics", async () => {
    const [north, south] = await handle.db
      .insert(schema.labs)
      .values([
        { slug: "n", name: "North" },
        { slug: "s", name: "South" },
      ])
      .returning();
    const [kase] = await handle.db.insert(schema.cases).values({ labId: south!.id, accessionNumber: "S-1", patientPseudonym: "p" }).returning();
    const [slide] = await handle.db
      .insert(schema.slides)
      .values({ labId: south!.id, caseId: kase!.id, fileName: "s.svs", sizeBytes: 1, sha256: "x", sourceKey: "sources/s.svs" })
      .returning();
    const user: SessionUser = {
      id: "00000000-0000-4000-8000-00000000000a",
      email: "u@n",
      name: "U",
      isHubAdmin: false,
      memberships: [{ labId: north!.id, labSlug: "n", labName: "North", role: "pathologist" }],
    };
    const southern = { ...user, memberships: [{ labId: south!.id, labSlug: "s", labName: "South", role: "pathologist" as const }] };
    expect(await refusedTopics(handle.db, user, [labSlidesTopic(north!.id)])).toEqual([]);
    expect(await refusedTopics(handle.db, user, [labSlidesTopic(south!.id), slideTopic(slide!.id), "anything", `lab:${north!.id}:other`])).toEqual([
      labSlidesTopic(south!.id),
      slideTopic(slide!.id),
      "anything",
      `lab:${north!.id}:other`,
    ]);
    expect(await refusedTopics(handle.db, southern, [labSlidesTopic(south!.id), slideTopic(slide!.id)])).toEqual([]);
    // A user's inbox topic is theirs alone.
    expect(await refusedTopics(handle.db, user, [`inbox:${user.id}`, "inbox:00000000-0000-4000-8000-00000000000b"])).toEqual([
      "inbox:00000000-0000-4000-8000-00000000000b",
    ]);
    // A slide change goes to the slide's topic and its lab's.
    const both = collect(hub, [slideTopic(slide!.id), labSlidesTopic(south!.id)], 2);
    await publishSlideChange(handle.db, { labId: south!.id, slideId: slide!.id, status: "tiling", progress: 0.5 });
    expect((await both.done).map((e) => [e.topic, e.payload])).toEqual([
      [slideTopic(slide!.id), { kind: "slide", slideId: slide!.id, status: "tiling", progress: 0.5, failureReason: null }],
      [labSlidesTopic(south!.id), { kind: "slide", slideId: slide!.id, status: "tiling", progress: 0.5, failureReason: null }],
    ]);
  });
});

describe("event bus across processes' connections (embedded PGlite server)", () => {
  it("wakes every hub's listener through NOTIFY, and the polling fallback delivers the same", async () => {
    const dir = await mkdtemp(join(tmpdir(), "events-"));
    const server = await startEmbeddedDbServer({ dataDir: dir, port: 47000 + Math.floor(Math.random() * 1000) });
    const env = readDbEnv({ DATABASE_URL: server.url, DATABASE_PREPARE: "false" });
    const publisher = await createDb(env);
    await publisher.migrate();
    const handles = [await createDb(env), await createDb(env), await createDb(env)];
    const hubs = [await createEventHub(handles[0]!), await createEventHub(handles[1]!), await createEventHub(handles[2]!, { mode: "poll", pollMs: 50 })];
    expect(hubs.map((h) => h.mode)).toEqual(["listen", "listen", "poll"]);
    const waiting = hubs.map((hub) => collect(hub, ["lab:x:slides"], 20).done);
    for (let i = 0; i < 20; i++) await publishEvent(publisher.db, { topic: "lab:x:slides", payload: { i } });
    for (const events of await Promise.all(waiting)) expect(events.map((e) => (e.payload as { i: number }).i)).toEqual([...Array(20).keys()]);
    for (const hub of hubs) await hub.close();
    for (const handle of [...handles, publisher]) await handle.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
});
