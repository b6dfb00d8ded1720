import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { type AddressInfo, connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { expect, it } from "vitest";
import { createDb } from "./client";
import { DATA_DIR_LOCK_FILE } from "./data-dir-lock";
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
  await Promise.all([first.db.insert(labs).values({ slug: "one", name: "One" }), second.db.insert(labs).values({ slug: "two", name: "Two" })]);
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
    Array.from({ length: 200 }, (_, i) =>
      (i % 2 ? first : second).db
        .select({ slug: labs.slug })
        .from(labs)
        .where(eq(labs.slug, ["one", "two", "three", "four"][i % 4]!)),
    ),
  );
  answers.forEach((rows, i) => {
    expect(rows).toEqual([{ slug: ["one", "two", "three", "four"][i % 4] }]);
  });
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
  const server = await startEmbeddedDbServer({
    dataDir: dir,
    port: 46000 + Math.floor(Math.random() * 1000),
    turnTimeoutMs: 500,
    log: (line) => lines.push(line),
  });
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
    .then(
      () => "committed",
      (error: unknown) => String(error),
    );
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

/**
 * A TCP relay between a client and the server that ends the connection at a chosen moment, as
 * kill -9 of the client would: after the client's request matching `cutAfter` reached the
 * server (it runs there while the client is gone), or after the server answered it.
 */
async function startCuttingRelay(serverUrl: string, cut: { request: RegExp; when: "sent" | "answered" }) {
  const target = new URL(serverUrl);
  let cutDone = () => {};
  const didCut = new Promise<void>((resolve) => (cutDone = resolve));
  const relay = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    let armed = false;
    const endBoth = () => {
      upstream.end();
      client.destroy();
      cutDone();
    };
    client.on("data", (data) => {
      upstream.write(data);
      if (data[0] === 0x51 && cut.request.test(data.toString("utf8"))) {
        if (cut.when === "sent") endBoth();
        else armed = true;
      }
    });
    upstream.on("data", (data) => {
      client.write(data);
      if (armed && data.includes(0x5a)) endBoth(); // its ReadyForQuery: the answer is complete
    });
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
    client.on("close", () => upstream.end());
  });
  await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
  const url = new URL(serverUrl);
  url.port = String((relay.address() as AddressInfo).port);
  return { url: url.toString(), didCut, close: () => relay.close() };
}

/** Resolves to the promise's value, or rejects if it takes longer than `ms`. */
const within = <T>(ms: number, promise: Promise<T>) =>
  Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms).unref())]);

for (const when of ["sent", "answered"] as const) {
  it(`serves the other connections at once when a client dies with a transaction open (cut once its statement was ${when})`, async () => {
    const dir = await mkdtemp(join(tmpdir(), "embedded-dead-"));
    const lines: string[] = [];
    // The idle-transaction bound (30 s by default) is not what frees the database here.
    const server = await startEmbeddedDbServer({ dataDir: dir, port: 46000 + Math.floor(Math.random() * 1000), log: (line) => lines.push(line) });
    const other = postgres(server.url, { prepare: false, max: 1, onnotice: () => {} });
    await other`create table t (n int)`;
    const relay = await startCuttingRelay(server.url, { request: /pg_sleep/, when });
    const dying = postgres(relay.url, { prepare: false, max: 1, onnotice: () => {} });
    // A transaction whose client is gone: while the statement runs ("sent") or just after it
    // answered, idle in the transaction ("answered").
    const lost = dying
      .unsafe("begin; insert into t values (1); select pg_sleep(0.3)")
      .simple()
      .catch((error: Error) => error);
    await relay.didCut;
    expect(await within(10_000, other`select count(*)::int as n from t`)).toEqual([{ n: 0 }]);
    expect(await within(10_000, other`insert into t values (2) returning n`)).toEqual([{ n: 2 }]);
    await lost; // an error ("sent"), or its answer ("answered"): either way the client is gone
    expect(lines).toEqual([]); // freed by the closed socket, not by the idle-transaction bound
    await dying.end({ timeout: 0 });
    relay.close();
    await other.end();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  });
}

it("lets a transaction's long statement finish: the turn bound counts only time the database waits for the client", async () => {
  const dir = await mkdtemp(join(tmpdir(), "embedded-long-"));
  const lines: string[] = [];
  const server = await startEmbeddedDbServer({
    dataDir: dir,
    port: 46000 + Math.floor(Math.random() * 1000),
    turnTimeoutMs: 300,
    log: (line) => lines.push(line),
  });
  const holder = postgres(server.url, { prepare: false, max: 1, onnotice: () => {} });
  const other = postgres(server.url, { prepare: false, max: 1, onnotice: () => {} });
  await holder`create table t (n int)`;
  let began = () => {};
  const inside = new Promise<void>((resolve) => (began = resolve));
  const committed = holder.begin(async (tx) => {
    await tx`insert into t values (1)`;
    const sleeping = tx`select pg_sleep(1)`;
    began();
    await sleeping;
    return "committed";
  });
  await inside;
  // Waits its turn behind the transaction, then sees it committed.
  const counted = other`select count(*)::int as n from t`;
  expect(await within(10_000, committed)).toBe("committed");
  expect(await within(10_000, counted)).toEqual([{ n: 1 }]);
  expect(lines).toEqual([]);
  await holder.end();
  await other.end();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

it("refuses a second server on the same data folder, naming the first, and takes over a claim left by a killed one", async () => {
  const dir = await mkdtemp(join(tmpdir(), "embedded-claim-"));
  const port = 46000 + Math.floor(Math.random() * 1000);
  // A claim left by a process that is gone (a kill -9): pid 2^22 + 1 is above Linux's pid limit.
  await writeFile(join(dir, DATA_DIR_LOCK_FILE), `${2 ** 22 + 1} 1 ${port + 1}`);
  const first = await startEmbeddedDbServer({ dataDir: dir, port });
  expect((await readFile(join(dir, DATA_DIR_LOCK_FILE), "utf8")).split(" ")[0]).toBe(String(process.pid));
  // While it runs, a second server on the folder is refused (here from the same process, as another `npm start` would be).
  await expect(startEmbeddedDbServer({ dataDir: dir, port: port + 1 })).rejects.toThrow(
    new RegExp(`already served by process ${process.pid} \\(port ${port}\\); stop that hub first, or give this one its own PGLITE_DIR`),
  );
  await first.stop();
  await expect(stat(join(dir, DATA_DIR_LOCK_FILE))).rejects.toThrow(/ENOENT/);
  const again = await startEmbeddedDbServer({ dataDir: dir, port: port + 1 });
  await again.stop();
  await rm(dir, { recursive: true, force: true });
});
