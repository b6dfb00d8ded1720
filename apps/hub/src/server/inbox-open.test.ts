import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type ApiDeps, createInProcessBoardChannel } from "@pathx/api";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { createLocalStore } from "@pathx/storage";
import { openInboxEntry } from "./inbox-open";

// The hub's settings are read once, on first use: redirects go to this public address.
vi.stubEnv("AUTH_SECRET", "a-test-secret-of-enough-length");
vi.stubEnv("AUTH_URL", "https://hub.example");

let handle: DbHandle;
let root: string;
let deps: ApiDeps;
let alice: string;
let bob: string;

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "pathx-inbox-"));
  deps = { db: handle.db, store: createLocalStore(root), enqueueTiling: async () => {}, boardChannel: createInProcessBoardChannel() };
  const [lab] = await handle.db.insert(schema.labs).values({ slug: "a", name: "Lab A" }).returning();
  const [a, b] = await handle.db
    .insert(schema.users)
    .values([
      { email: "alice@a.example", name: "Alice" },
      { email: "bob@a.example", name: "Bob" },
    ])
    .returning();
  await handle.db.insert(schema.memberships).values([
    { userId: a!.id, labId: lab!.id, role: "pathologist" },
    { userId: b!.id, labId: lab!.id, role: "pathologist" },
  ]);
  alice = a!.id;
  bob = b!.id;
});

afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

const addEntry = async (userId: string, link: string) =>
  (await handle.db.insert(schema.notifications).values({ userId, kind: "consult", title: "A consult for you", link }).returning())[0]!.id;
const readAt = async (id: string) => (await handle.db.select().from(schema.notifications).where(eq(schema.notifications.id, id)))[0]!.readAt;
const open = (id: string, userId: string | undefined) => openInboxEntry(new Request(`http://10.0.0.5:3000/inbox/${id}`), id, userId, async () => deps);

describe("openInboxEntry", () => {
  it("sends a caller who is not signed in to sign in, back to the inbox after, at the public address", async () => {
    const id = await addEntry(alice, "/consults/1");
    const response = await open(id, undefined);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("https://hub.example/sign-in?next=/inbox");
    expect(await readAt(id)).toBeNull();
  });

  it("marks the user's own entry read and goes where it points", async () => {
    const id = await addEntry(alice, "/consults/42?tab=slides");
    const response = await open(id, alice);
    expect(response.status).toBe(303);
    expect(response.headers.get("location")).toBe("https://hub.example/consults/42?tab=slides");
    expect(await readAt(id)).toBeInstanceOf(Date);
  });

  it("does not open or mark another user's entry: it goes to the inbox", async () => {
    const id = await addEntry(alice, "/consults/7");
    const response = await open(id, bob);
    expect(response.headers.get("location")).toBe("https://hub.example/inbox");
    expect(await readAt(id)).toBeNull();
  });

  it("goes to the inbox for an unknown or malformed id", async () => {
    for (const id of [randomUUID(), "not-an-id", "../../admin"]) {
      const response = await open(id, alice);
      expect(response.status).toBe(303);
      expect(response.headers.get("location")).toBe("https://hub.example/inbox");
    }
  });

  it("never follows a link that leaves the hub, but still marks the entry read", async () => {
    for (const link of ["//evil.example/x", "https://evil.example/x"]) {
      const id = await addEntry(alice, link);
      const response = await open(id, alice);
      expect(response.headers.get("location")).toBe("https://hub.example/inbox");
      expect(await readAt(id)).toBeInstanceOf(Date);
    }
  });
});
