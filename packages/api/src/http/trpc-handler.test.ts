import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { type ObjectStore, createLocalStore } from "@pathx/storage";
import { handleTrpcRequest } from "./trpc-handler";

let handle: DbHandle;
let store: ObjectStore;
let root: string;
let userId: string;
let labId: string;

beforeAll(async () => {
  handle = await createTestDb();
  root = await mkdtemp(join(tmpdir(), "trpc-http-"));
  store = createLocalStore(root);
  const [lab] = await handle.db.insert(schema.labs).values({ slug: "a", name: "A" }).returning();
  const [user] = await handle.db.insert(schema.users).values({ email: "p@a.example", name: "P" }).returning();
  await handle.db.insert(schema.memberships).values({ userId: user!.id, labId: lab!.id, role: "pathologist" });
  userId = user!.id;
  labId = lab!.id;
});

afterAll(async () => {
  await handle.close();
  await rm(root, { recursive: true, force: true });
});

const call = (path: string, init: RequestInit & { as?: string | null } = {}) =>
  handleTrpcRequest(new Request(`http://hub.test/api/trpc/${path}`, init), {
    endpoint: "/api/trpc",
    deps: { db: handle.db, store },
    userId: init.as === null ? undefined : (init.as ?? userId),
    timeoutMs: 5000,
  });
const input = (value: unknown) => `input=${encodeURIComponent(JSON.stringify(value))}`;

it("answers NOT_FOUND (404) for a malformed id, never a failure", async () => {
  for (const path of [`cases.get?${input({ id: "1 OR 1=1" })}`, `slides.get?${input({ id: "nope" })}`, `annotations.list?${input({ slideId: "../../x" })}`]) {
    const response = await call(path);
    expect(response.status, path).toBe(404);
    expect(((await response.json()) as { error: { data: { code: string } } }).error.data.code).toBe("NOT_FOUND");
  }
});

it("limits a batch to 20 calls", async () => {
  const paths = (n: number) => Array.from({ length: n }, () => "inbox.unread").join(",");
  expect((await call(`${paths(20)}?batch=1&${input({})}`)).status).toBe(200);
  expect((await call(`${paths(21)}?batch=1&${input({})}`)).status).toBe(400);
});

it("bounds the body: 1 MB with a session, 16 KB without", async () => {
  const big = (bytes: number) => JSON.stringify({ ids: [], pad: "x".repeat(bytes) });
  const post = (body: string, as?: string | null) => call("inbox.markRead", { method: "POST", body, headers: { "content-type": "application/json" }, as });
  expect((await post(big(2 * 1024 * 1024))).status).toBe(413);
  expect((await post(big(20 * 1024), null)).status).toBe(413);
  expect((await post(JSON.stringify({}))).status).toBe(200);
  expect((await post(JSON.stringify({}), null)).status).toBe(401);
});

it("never sends SQL, its parameters or internals: logs them with a request id and answers that id", async () => {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  // The last test of the file: a table gone makes every case query fail inside the database driver.
  await handle.db.execute(sql`alter table cases rename to cases_gone`);
  const caseId = "00000000-0000-4000-8000-000000000001";
  const response = await call(`cases.get?${input({ id: caseId })}`);
  const text = await response.text();
  expect(response.status).toBe(500);
  for (const secret of ["select", "cases", caseId, labId, "Failed query", "at "]) expect(text).not.toContain(secret);
  const requestId = (JSON.parse(text) as { error: { data: { requestId: string } } }).error.data.requestId;
  expect(text).toContain(`request ${requestId}`);
  expect(logged.mock.calls.some((args) => String(args[0]).includes(requestId))).toBe(true);
  logged.mockRestore();
});
