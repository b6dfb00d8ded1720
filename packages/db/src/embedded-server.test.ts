import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { expect, it } from "vitest";
import { createDb } from "./client";
import { EMBEDDED_DB_SECRET_FILE, startEmbeddedDbServer } from "./embedded-server";
import { readDbEnv } from "./env";
import { labs } from "./schema";

it("serves PGlite over the PostgreSQL protocol to several clients, and keeps data across restarts", async () => {
  const dir = await mkdtemp(join(tmpdir(), "embedded-"));
  const port = 46000 + Math.floor(Math.random() * 1000);
  let server = await startEmbeddedDbServer({ dataDir: dir, port });
  const env = readDbEnv({ DATABASE_URL: server.url, DATABASE_PREPARE: "false" });
  const first = await createDb(env);
  await first.migrate();
  const second = await createDb(env);
  await Promise.all([
    first.db.insert(labs).values({ slug: "one", name: "One" }),
    second.db.insert(labs).values({ slug: "two", name: "Two" }),
  ]);
  // Another client's statement waits while a transaction runs, instead of landing inside it:
  // the transaction rolls back and the other insert survives.
  const failing = first.db.transaction(async (tx) => {
    await tx.insert(labs).values({ slug: "rolled-back", name: "Gone" });
    await tx.execute(sql`select pg_sleep(0.3)`);
    throw new Error("abort");
  });
  const concurrent = second.db.insert(labs).values({ slug: "three", name: "Three" });
  await expect(failing).rejects.toThrow("abort");
  await concurrent;
  await second.db.insert(labs).values({ slug: "four", name: "Four" });
  expect((await second.db.select().from(labs)).map((l) => l.slug).sort()).toEqual(["four", "one", "three", "two"]);
  // Parameterised queries from both clients at once: each gets its own answer (a request's
  // Parse/Bind/Execute are never interleaved with another connection's).
  const answers = await Promise.all(
    Array.from({ length: 200 }, (_, i) => (i % 2 ? first : second).db.select({ slug: labs.slug }).from(labs).where(eq(labs.slug, ["one", "two", "three", "four"][i % 4]!))),
  );
  answers.forEach((rows, i) => expect(rows).toEqual([{ slug: ["one", "two", "three", "four"][i % 4] }]));
  await first.close();
  await second.close();
  await server.stop();
  server = await startEmbeddedDbServer({ dataDir: dir, port });
  const again = await createDb(readDbEnv({ DATABASE_URL: server.url, DATABASE_PREPARE: "false" }));
  expect(await again.db.select().from(labs)).toHaveLength(4);
  await again.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

it("forwards NOTIFY to the connections that LISTEN, whoever's statement sent it", async () => {
  const dir = await mkdtemp(join(tmpdir(), "embedded-notify-"));
  const server = await startEmbeddedDbServer({ dataDir: dir, port: 46000 + Math.floor(Math.random() * 1000) });
  const client = () => postgres(server.url, { prepare: false, max: 2, onnotice: () => {} });
  const [a, b, c, sender] = [client(), client(), client(), client()];
  const heard: Record<string, string[]> = { a: [], b: [], c: [] };
  let arrived = () => {};
  const hear = (who: string) => (payload: string) => {
    heard[who]!.push(payload);
    arrived();
  };
  await a.listen("events", hear("a"));
  await b.listen("events", hear("b"));
  const cListen = await c.listen("other", hear("c"));
  // c's UNLISTEN reaches the shared backend; a and b must keep hearing.
  await cListen.unlisten();
  const allHeard = (n: number) =>
    new Promise<void>((resolve) => {
      arrived = () => heard.a!.length + heard.b!.length >= n && resolve();
      arrived();
    });
  await sender`select pg_notify('events', 'one')`;
  await sender.begin(async (tx) => {
    await tx`select pg_notify('events', 'two')`;
    await tx`select pg_notify('other', 'nobody listens')`;
  });
  await allHeard(4);
  expect(heard).toEqual({ a: ["one", "two"], b: ["one", "two"], c: [] });
  // The sender's own answers carry no notifications it did not ask for.
  expect(await sender`select 1 as one`).toEqual([{ one: 1 }]);
  for (const sql of [a, b, c, sender]) await sql.end();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

it("requires the generated password (SCRAM-SHA-256), kept 0600 beside the data", async () => {
  const dir = await mkdtemp(join(tmpdir(), "embedded-auth-"));
  const lines: string[] = [];
  const server = await startEmbeddedDbServer({ dataDir: dir, port: 46000 + Math.floor(Math.random() * 1000), log: (line) => lines.push(line) });
  const url = new URL(server.url);
  expect(url.password.length).toBeGreaterThanOrEqual(40);
  expect((await stat(join(dir, EMBEDDED_DB_SECRET_FILE))).mode & 0o777).toBe(0o600);
  expect((await readFile(join(dir, EMBEDDED_DB_SECRET_FILE), "utf8")).trim()).toBe(decodeURIComponent(url.password));
  for (const password of ["postgres", "", `${decodeURIComponent(url.password)}x`]) {
    const wrong = new URL(server.url);
    wrong.password = password;
    const client = postgres(wrong.toString(), { prepare: false, max: 1, onnotice: () => {} });
    await expect(client`select 1`).rejects.toThrow(/password authentication failed/);
    await client.end();
  }
  expect(lines.some((l) => l.includes("wrong password"))).toBe(true);
  const right = postgres(server.url, { prepare: false, max: 1, onnotice: () => {} });
  expect(await right`select 1 as one`).toEqual([{ one: 1 }]);
  await right.end();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

it("ends a connection that holds a transaction open past the turn bound, so the others go on", async () => {
  const dir = await mkdtemp(join(tmpdir(), "embedded-turn-"));
  const lines: string[] = [];
  const server = await startEmbeddedDbServer({ dataDir: dir, port: 46000 + Math.floor(Math.random() * 1000), turnTimeoutMs: 500, log: (line) => lines.push(line) });
  const holder = postgres(server.url, { prepare: false, max: 1, onnotice: () => {} });
  const other = postgres(server.url, { prepare: false, max: 1, onnotice: () => {} });
  await holder`create table t (n int)`;
  let began = () => {};
  const inside = new Promise<void>((resolve) => (began = resolve));
  // Opens a transaction, writes, then never sends another statement.
  const held = holder
    .begin(async (tx) => {
      await tx`insert into t values (1)`;
      began();
      await new Promise(() => {});
    })
    .then(() => "committed", (error: unknown) => String(error));
  await inside;
  // Would wait for ever behind the open transaction without the bound.
  expect(await other`select count(*)::int as n from t`).toEqual([{ n: 0 }]);
  expect(await held).toMatch(/CONNECTION_CLOSED|terminating connection/);
  expect(lines.some((l) => /kept a transaction open .* rolled it back/.test(l))).toBe(true);
  await other.end();
  await holder.end({ timeout: 0 });
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});
