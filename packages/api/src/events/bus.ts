import { and, asc, gt, inArray, lte, sql } from "drizzle-orm";
import { type Db, type DbHandle, schema } from "@pathx/db";

const { events } = schema;

/** The channel whose notifications wake every hub process's event reader. */
export const EVENTS_CHANNEL = "pathx_events";
// Publishers take this transaction lock so event ids commit in id order: a reader that has seen
// id N has then seen every committed id below N, and `id > lastSeen` never skips a late commit.
const PUBLISH_LOCK = 7_061_746_800;
const PAGE = 500;

export interface EventInput {
  topic: string;
  labId?: string | null;
  payload: Record<string, unknown>;
}

export interface BusEvent {
  id: number;
  topic: string;
  labId: string | null;
  payload: unknown;
  createdAt: Date;
}

/**
 * Records events and wakes the listeners. Pass the transaction of the change they describe, so
 * they are seen exactly when the change is (NOTIFY is delivered at commit).
 */
export async function publishEvents(db: Db, list: EventInput[]): Promise<number[]> {
  if (list.length === 0) return [];
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${PUBLISH_LOCK})`);
    const rows = await tx
      .insert(events)
      // The insert's own time, not the transaction's start (now()): what latency is measured from.
      .values(list.map((e) => ({ topic: e.topic, labId: e.labId ?? null, payload: e.payload, createdAt: sql`clock_timestamp()` })))
      .returning({ id: events.id });
    await tx.execute(sql`select pg_notify(${EVENTS_CHANNEL}, ${String(rows.at(-1)!.id)})`);
    return rows.map((r) => r.id);
  });
}

export async function publishEvent(db: Db, event: EventInput): Promise<number> {
  const [id] = await publishEvents(db, [event]);
  return id!;
}

/** Deletes events older than the given hours (a reconnecting client catches up within that). */
export async function pruneEvents(db: Db, olderThanHours: number): Promise<number> {
  const deleted = await db.delete(events).where(sql`${events.createdAt} < now() - make_interval(hours => ${olderThanHours})`).returning({ id: events.id });
  return deleted.length;
}

export interface EventHub {
  /**
   * Calls `deliver` with each new event on one of `topics`, in id order, once. With `sinceId`
   * (a client's Last-Event-ID) the events after it still kept are delivered first.
   */
  subscribe(topics: string[], sinceId: number | undefined, deliver: (event: BusEvent) => void): () => void;
  /** The newest event id this process has read. */
  lastId(): number;
  /** "listen": woken by NOTIFY; "poll": reads every pollMs (NOTIFY unavailable). */
  readonly mode: "listen" | "poll";
  close(): Promise<void>;
}

interface Subscriber {
  topics: Set<string>;
  last: number;
  deliver: (event: BusEvent) => void;
  /** Live events held while the catch-up read runs. */
  held: BusEvent[] | undefined;
}

const toEvent = (row: typeof events.$inferSelect): BusEvent => ({
  id: row.id,
  topic: row.topic,
  labId: row.labId,
  payload: row.payload,
  createdAt: row.createdAt,
});

/**
 * One per process: a single LISTEN connection and a single reader fan every new event out to
 * this process's subscribers (SSE clients), however many there are. NOTIFY only wakes the
 * reader; the rows are the truth, so a lost notification costs latency, never an event: a slow
 * safety read (every `safetyMs`) and a read on every (re)connect catch up.
 */
export async function createEventHub(
  handle: DbHandle,
  options: { mode?: "listen" | "poll"; pollMs?: number; safetyMs?: number; log?: (line: string) => void } = {},
): Promise<EventHub> {
  const { db } = handle;
  const log = options.log ?? ((line: string) => console.error(line));
  const subscribers = new Set<Subscriber>();
  const [{ max } = { max: 0 }] = await db.select({ max: sql<number>`coalesce(max(${events.id}), 0)::bigint` }).from(events);
  let last = Number(max);
  let reading: Promise<void> | undefined;
  let again = false;
  let closed = false;

  const send = (subscriber: Subscriber, event: BusEvent) => {
    if (event.id <= subscriber.last) return;
    subscriber.last = event.id;
    try {
      subscriber.deliver(event);
    } catch (error) {
      log(`[events] a subscriber failed: ${(error as Error).message}`);
    }
  };

  const readNew = async () => {
    for (;;) {
      const rows = await db.select().from(events).where(gt(events.id, last)).orderBy(asc(events.id)).limit(PAGE);
      for (const row of rows) {
        const event = toEvent(row);
        last = event.id;
        for (const subscriber of subscribers) {
          if (!subscriber.topics.has(event.topic)) continue;
          if (subscriber.held) subscriber.held.push(event);
          else send(subscriber, event);
        }
      }
      if (rows.length < PAGE) return;
    }
  };

  // One read at a time; a wake-up during a read makes it read once more.
  const wake = () => {
    if (closed) return;
    if (reading) {
      again = true;
      return;
    }
    reading = (async () => {
      do {
        again = false;
        await readNew().catch((error: Error) => log(`[events] reading new events failed: ${error.message}`));
      } while (again && !closed);
      reading = undefined;
    })();
  };

  let mode: "listen" | "poll" = options.mode ?? "listen";
  let unlisten: (() => Promise<void>) | undefined;
  if (mode === "listen") {
    try {
      unlisten = await handle.listen(EVENTS_CHANNEL, wake, wake);
    } catch (error) {
      log(`[events] LISTEN failed (${(error as Error).message}); polling instead`);
      mode = "poll";
    }
  }
  const timer = setInterval(wake, mode === "listen" ? (options.safetyMs ?? 5000) : (options.pollMs ?? 100));
  timer.unref();

  return {
    mode,
    lastId: () => last,
    subscribe(topics, sinceId, deliver) {
      const upTo = last;
      const catchUp = sinceId !== undefined && sinceId < upTo;
      // A client that saw newer ids through another hub process than this one has read yet
      // must not get them twice.
      const subscriber: Subscriber = {
        topics: new Set(topics),
        last: catchUp ? sinceId : Math.max(upTo, sinceId ?? 0),
        deliver,
        held: catchUp ? [] : undefined,
      };
      subscribers.add(subscriber);
      if (catchUp && topics.length > 0) {
        void (async () => {
          try {
            for (let from = sinceId; ; ) {
              const rows = await db
                .select()
                .from(events)
                .where(and(gt(events.id, from), lte(events.id, upTo), inArray(events.topic, topics)))
                .orderBy(asc(events.id))
                .limit(PAGE);
              for (const row of rows) send(subscriber, toEvent(row));
              if (rows.length < PAGE || !subscribers.has(subscriber)) break;
              from = rows.at(-1)!.id;
            }
          } catch (error) {
            log(`[events] catching up failed: ${(error as Error).message}`);
          }
          const held = subscriber.held ?? [];
          subscriber.held = undefined;
          subscriber.last = Math.max(subscriber.last, upTo);
          for (const event of held) send(subscriber, event);
        })();
      } else subscriber.held = undefined;
      return () => void subscribers.delete(subscriber);
    },
    async close() {
      closed = true;
      clearInterval(timer);
      subscribers.clear();
      await unlisten?.().catch(() => {});
      await reading;
    },
  };
}
