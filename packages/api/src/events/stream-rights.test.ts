import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { addBoardMember, createBoard, removeBoardMember, scheduleBoardSession } from "../domain/boards";
import { loadSessionUser } from "../domain/users";
import { createInProcessBoardChannel } from "../live/board-channel";
import { type EventHub, createEventHub } from "./bus";
import { publishAccessRevocation } from "./revocations";
import { watchTopicRights } from "./stream-rights";

// Issue 11 item 11: a member removed from a board kept receiving its events on /api/events.
describe("open event streams lose topics whose rights are gone", () => {
  let handle: DbHandle;
  let hub: EventHub;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    handle = await createTestDb();
    hub = await createEventHub(handle);
    const db = handle.db;
    const [north, south] = await db
      .insert(schema.labs)
      .values([
        { slug: "north", name: "North" },
        { slug: "south", name: "South" },
      ])
      .returning();
    const [chair, member] = await db
      .insert(schema.users)
      .values([
        { email: "chair@north.example", name: "Chair" },
        { email: "member@south.example", name: "Member" },
      ])
      .returning();
    await db.insert(schema.memberships).values([
      { userId: chair!.id, labId: north!.id, role: "pathologist" },
      { userId: member!.id, labId: south!.id, role: "pathologist" },
    ]);
    const board = await createBoard(db, (await loadSessionUser(db, chair!.id))!, "Sarcoma");
    await addBoardMember(db, chair!.id, board.id, "member@south.example");
    const session = await scheduleBoardSession(db, chair!.id, board.id, new Date());
    Object.assign(ids, { chair: chair!.id, member: member!.id, board: board.id, session: session.id, northLab: north!.id });
  }, 60_000);
  afterAll(async () => {
    await hub.close();
    await handle.close();
  });

  it("a member removed from a board: the stream of its topic is ended within 5 s", async () => {
    const topics = [`board:${ids.session}`, `inbox:${ids.member}`];
    let refused: string[] | undefined;
    const ended = new Promise<void>((resolve) => {
      watchTopicRights(hub, handle.db, ids.member!, topics, (r) => {
        refused = r;
        resolve();
      });
    });
    const started = Date.now();
    await removeBoardMember({ db: handle.db, channel: createInProcessBoardChannel() }, ids.chair!, ids.board!, ids.member!);
    await ended;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(refused).toEqual([`board:${ids.session}`]);
  });

  it("a revocation of someone else, or one that leaves every topic allowed, ends nothing", async () => {
    let calls = 0;
    const stop = watchTopicRights(hub, handle.db, ids.chair!, [`board:${ids.session}`, `lab:${ids.northLab}:slides`], () => calls++);
    await publishAccessRevocation(handle.db, { streamUserIds: [ids.member!] });
    await publishAccessRevocation(handle.db, { streamUserIds: [ids.chair!] });
    // A later watcher sees both revocations pass (delivery is in id order), so the first watcher has too.
    await new Promise<void>((resolve) => {
      const probe = hub.subscribe(["access:revocations"], undefined, () => {});
      const marker = watchTopicRights(hub, handle.db, ids.member!, [`board:${ids.session}`], () => {
        marker();
        probe();
        resolve();
      });
      void publishAccessRevocation(handle.db, { streamUserIds: [ids.member!] });
    });
    stop();
    expect(calls).toBe(0);
  });
});
