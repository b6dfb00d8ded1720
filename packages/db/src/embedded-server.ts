import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { type Socket, createServer } from "node:net";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { claimDataDir } from "./data-dir-lock";
import { makePrivateDir } from "./private-dir";
import { type ScramVerifier, scramVerifier, startScram } from "./scram";

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;

interface Session {
  id: number;
  socket: Socket;
  buffer: Buffer;
  started: boolean;
  /** SCRAM-SHA-256 first, then the startup message goes to the backend: nothing else before that. */
  auth: { state: "initial" } | { state: "continue"; finish: (clientFinal: string) => string | undefined } | { state: "done" };
  startup?: Buffer;
  user: string;
  /** Channels this connection asked to LISTEN on. */
  channels: Set<string>;
  /** Notifications for it that arrived during its own turn: sent once the turn ends. */
  held: Buffer[];
}

interface ListenCommand {
  listen: boolean;
  channel: string;
}

const LISTEN_COMMAND = /^\s*(listen|unlisten)\s+(?:"((?:[^"]|"")+)"|([\w$]+|\*))\s*;?\s*$/i;

/** A LISTEN or UNLISTEN in a simple Query ('Q') or a Parse ('P') message, else undefined. */
function listenCommand(message: Buffer): ListenCommand | undefined {
  const type = message[0];
  let at = 5;
  if (type === 0x50)
    at = message.indexOf(0, at) + 1; // Parse: skip the statement name
  else if (type !== 0x51) return undefined;
  const end = message.indexOf(0, at);
  const match = end > at ? LISTEN_COMMAND.exec(message.toString("utf8", at, end)) : null;
  if (!match) return undefined;
  return { listen: match[1]!.toLowerCase() === "listen", channel: match[2]?.replaceAll('""', '"') ?? match[3]! };
}

/** Takes the NotificationResponse ('A') messages out of a backend response. */
function splitNotifications(response: Buffer): { rest: Buffer; notifications: { channel: string; message: Buffer }[] } {
  const notifications: { channel: string; message: Buffer }[] = [];
  if (!response.includes(0x41)) return { rest: response, notifications };
  const kept: Buffer[] = [];
  let at = 0;
  let keptFrom = 0;
  while (at + 5 <= response.length) {
    const length = response.readInt32BE(at + 1);
    const end = at + 1 + length;
    if (response[at] === 0x41 && end <= response.length) {
      kept.push(response.subarray(keptFrom, at));
      const channelEnd = response.indexOf(0, at + 9);
      notifications.push({ channel: response.toString("utf8", at + 9, channelEnd), message: Buffer.from(response.subarray(at, end)) });
      keptFrom = end;
    }
    at = end;
  }
  if (notifications.length === 0) return { rest: response, notifications };
  kept.push(response.subarray(keptFrom));
  return { rest: Buffer.concat(kept), notifications };
}

/** The password file beside the data, created once (0600), so only this account's processes can connect. */
export const EMBEDDED_DB_SECRET_FILE = "pathx-db-password";

async function readOrCreateSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, EMBEDDED_DB_SECRET_FILE);
  const created = randomBytes(32).toString("base64url");
  await writeFile(file, created, { mode: 0o600, flag: "wx" }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "EEXIST") throw error;
  });
  await chmod(file, 0o600); // whatever the umask or an older copy said
  return (await readFile(file, "utf8")).trim();
}

const message = (type: string, body: Buffer) => {
  const head = Buffer.alloc(5);
  head.write(type, 0, "latin1");
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const authMessage = (code: number, payload: Buffer) => message("R", Buffer.concat([int32(code), payload]));
/** A FATAL ErrorResponse with its SQLSTATE. */
const fatal = (code: string, text: string) => message("E", Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${text}\0`, "utf8"), Buffer.from([0])]));

/** The user named in a StartupMessage (key/value pairs after the protocol version). */
function startupUser(startup: Buffer): string {
  const parts = startup.toString("utf8", 8).split("\0");
  const at = parts.indexOf("user");
  return at >= 0 ? (parts[at + 1] ?? "") : "";
}

/**
 * Creates a new data folder (initdb) in a short-lived process: done in this one, PGlite keeps
 * the initdb run's memory resident for the server's whole life (measured: 643 MiB after a first
 * open, 174 MiB after opening an existing folder).
 */
async function initDataDirApart(dataDir: string) {
  if (await stat(join(dataDir, "PG_VERSION")).catch(() => undefined)) return;
  const pglite = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  const script = "require(process.argv[1]).PGlite.create(process.argv[2]).then((db) => db.close())";
  const child = spawn(process.execPath, ["-e", script, pglite, dataDir], { stdio: ["ignore", "inherit", "inherit"] });
  const code = await new Promise<number | null>((done, fail) => child.on("error", fail).on("exit", (c) => done(c)));
  if (code !== 0) throw new Error(`creating the embedded database in ${dataDir} failed (exit ${code})`);
}

/**
 * The embedded database as a server: PGlite on a data folder, spoken to over the PostgreSQL
 * wire protocol on loopback, so the hub and its workers are separate processes using the same
 * client code as with a real PostgreSQL.
 *
 * PGlite has one backend session, so connections take turns. A turn lasts until the backend
 * is idle again: a whole request up to Sync or one Query, including the round trips a client
 * makes with Flush in between, so one connection's Parse is never followed by another's Bind;
 * and while a transaction is open, only its connection gets turns. Clients must not rely on session state (connect with prepared
 * statements off).
 *
 * LISTEN/NOTIFY: the one backend session listens for everyone, so a notification comes back in
 * the response of whichever connection's statement committed it. The server takes it out of
 * that response and sends it to the connections that asked to LISTEN on its channel, as a
 * PostgreSQL server would, so cross-process wake-ups work as on a real server.
 *
 * Clients authenticate with SCRAM-SHA-256 against a generated password kept 0600 in the data
 * folder (`url` carries it for the processes the server is started for). A connection that
 * keeps its turn — a transaction left open, idle — longer than `turnTimeoutMs` is ended (its
 * transaction rolled back, a log line says which), as PostgreSQL's
 * idle_in_transaction_session_timeout would, so it cannot stall every other client.
 *
 * The data folder is claimed while the server runs (`pathx-db.pid`): a second server on the same
 * folder is refused with a message naming the first; a claim left by a killed process is taken over.
 */
export async function startEmbeddedDbServer(options: { dataDir: string; port: number; host?: string; turnTimeoutMs?: number; log?: (line: string) => void }) {
  await makePrivateDir(options.dataDir);
  // One server per data folder: a second one (another `npm start` on another port) is refused.
  const releaseDataDir = await claimDataDir(options.dataDir, options.port);
  // PostgreSQL's default 128 MB of shared buffers live in PGlite's WASM memory, which never
  // shrinks; the files sit in the OS page cache anyway, so 16 MB keeps ≈ 140 MiB off the hub.
  const db = await initDataDirApart(options.dataDir)
    .then(() => PGlite.create(options.dataDir, { startParams: [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"] }))
    .catch(async (error: unknown) => {
      await releaseDataDir();
      throw error;
    });
  const password = await readOrCreateSecret(options.dataDir);
  const verifier: ScramVerifier = scramVerifier(password);
  const turnTimeoutMs = options.turnTimeoutMs ?? 30_000;
  const log = options.log ?? ((line: string) => console.warn(line));
  const host = options.host ?? "127.0.0.1";
  const pending: { session: Session; request: Buffer; commands: ListenCommand[] }[] = [];
  const sessions = new Set<Session>();
  let owner: Session | undefined; // the connection whose transaction is open
  let running = false;
  let nextId = 1;
  let turnTimer: NodeJS.Timeout | undefined;

  /** The owner has this long to send its next request; the clock restarts at each answer. */
  const watchTurn = () => {
    clearTimeout(turnTimer);
    turnTimer = undefined;
    const holder = owner;
    if (!holder) return;
    turnTimer = setTimeout(() => {
      if (owner !== holder || pending.some((p) => p.session === holder)) return;
      log(
        `embedded database: connection ${holder.id} (${holder.user}) kept a transaction open for more than ${turnTimeoutMs} ms; ended it and rolled it back so other connections can go on`,
      );
      holder.socket.end(fatal("25P03", "terminating connection: a transaction was left idle too long (the embedded database serves one turn at a time)"));
      holder.socket.destroy();
    }, turnTimeoutMs);
    turnTimer.unref();
  };

  const pump = async () => {
    if (running) return;
    running = true;
    try {
      for (;;) {
        const index = owner ? pending.findIndex((p) => p.session === owner) : 0;
        if (index < 0 || pending.length === 0) break;
        const [{ session, request, commands }] = pending.splice(index, 1) as [(typeof pending)[number]];
        const relisten = trackListens(session, commands);
        const raw = await db.runExclusive(() => db.execProtocolRaw(request));
        // The backend's LISTEN state is shared: another connection's UNLISTEN must not end ours.
        if (relisten.length > 0) await db.exec(relisten.map((c) => `LISTEN "${c.replaceAll('"', '""')}"`).join(";"));
        const { rest: response, notifications } = splitNotifications(Buffer.from(raw));
        // The connection keeps its turn until ReadyForQuery says idle ('I'): a Flush answer has
        // none (the client sends Bind next), and 'T' / 'E' mean its transaction is open.
        const idle = response.length >= 6 && response[response.length - 6] === 0x5a && response[response.length - 1] === 0x49;
        owner = idle ? undefined : session;
        watchTurn();
        if (!session.socket.destroyed) session.socket.write(response);
        for (const { channel, message } of notifications) {
          for (const listener of sessions) if (listener.channels.has(channel)) listener.held.push(message);
        }
        // Never inside a connection's own turn: between its requests, as PostgreSQL does when idle.
        for (const listener of sessions) {
          if (listener.held.length === 0 || listener === owner) continue;
          if (!listener.socket.destroyed) listener.socket.write(Buffer.concat(listener.held));
          listener.held = [];
        }
      }
    } finally {
      running = false;
    }
  };

  /** Applies a turn's LISTEN / UNLISTEN; returns the channels the backend must listen on again. */
  const trackListens = (session: Session, commands: ListenCommand[]): string[] => {
    for (const { listen, channel } of commands) {
      if (listen) session.channels.add(channel);
      else if (channel === "*") session.channels.clear();
      else session.channels.delete(channel);
    }
    if (!commands.some((c) => !c.listen)) return [];
    return [...new Set([...sessions].flatMap((s) => [...s.channels]).filter((c) => c !== "*"))];
  };

  const release = async (session: Session) => {
    sessions.delete(session);
    for (let i = pending.length - 1; i >= 0; i--) if (pending[i]!.session === session) pending.splice(i, 1);
    if (owner === session) {
      // A client that vanished mid-transaction must not hold the database.
      owner = undefined;
      // exec takes PGlite's query lock itself (inside runExclusive it would wait on itself for ever).
      await db.exec("ROLLBACK").catch(() => {});
    }
    void pump();
  };

  const refuse = (session: Session) => {
    log(`embedded database: refused connection ${session.id} (${session.user}): wrong password`);
    session.socket.end(fatal("28P01", `password authentication failed for user "${session.user}"`));
    return false;
  };

  /** One SCRAM message of a connection that has not authenticated yet; false when it is refused. */
  const authenticate = (session: Session, frame: Buffer): boolean => {
    if (frame[0] !== 0x70) return refuse(session); // only PasswordMessage / SASL responses now
    if (session.auth.state === "initial") {
      const nameEnd = frame.indexOf(0, 5);
      if (frame.toString("latin1", 5, nameEnd) !== "SCRAM-SHA-256") return refuse(session);
      const size = frame.readInt32BE(nameEnd + 1);
      const exchange = startScram(verifier, frame.toString("utf8", nameEnd + 5, nameEnd + 5 + Math.max(0, size)));
      if (!exchange) return refuse(session);
      session.auth = { state: "continue", finish: exchange.finish };
      session.socket.write(authMessage(11, Buffer.from(exchange.serverFirst)));
      return true;
    }
    if (session.auth.state !== "continue") return refuse(session);
    const serverFinal = session.auth.finish(frame.toString("utf8", 5));
    if (!serverFinal) return refuse(session);
    session.auth = { state: "done" };
    session.socket.write(authMessage(12, Buffer.from(serverFinal)));
    // Now the backend sees the startup message and answers AuthenticationOk, parameters, ReadyForQuery.
    pending.push({ session, request: session.startup!, commands: [] });
    void pump();
    return true;
  };

  const onData = (session: Session, data: Buffer) => {
    session.buffer = Buffer.concat([session.buffer, data]);
    let end = 0; // bytes of complete turns found so far
    let at = 0;
    const found: ListenCommand[] = []; // in messages read so far
    const commands: ListenCommand[] = []; // in complete turns
    while (true) {
      if (!session.started) {
        if (session.buffer.length < at + 8) break;
        const length = session.buffer.readInt32BE(at);
        const code = session.buffer.readInt32BE(at + 4);
        if (session.buffer.length < at + length) break;
        if (code === SSL_REQUEST) {
          session.socket.write("N");
          session.buffer = session.buffer.subarray(at + length);
          at = 0;
          end = 0;
          continue;
        }
        if (code === CANCEL_REQUEST) {
          session.socket.end();
          return;
        }
        session.started = true;
        session.startup = Buffer.from(session.buffer.subarray(at, at + length));
        session.user = startupUser(session.startup);
        session.socket.write(authMessage(10, Buffer.from("SCRAM-SHA-256\0\0", "latin1")));
        session.buffer = session.buffer.subarray(at + length);
        at = 0;
        end = 0;
        continue;
      }
      if (session.buffer.length < at + 5) break;
      const type = session.buffer[at]!;
      const length = session.buffer.readInt32BE(at + 1);
      if (session.buffer.length < at + 1 + length) break;
      if (session.auth.state !== "done") {
        if (!authenticate(session, session.buffer.subarray(at, at + 1 + length))) return;
        session.buffer = session.buffer.subarray(at + 1 + length);
        at = 0;
        end = 0;
        continue;
      }
      const command = listenCommand(session.buffer.subarray(at, at + 1 + length));
      if (command) found.push(command);
      at += 1 + length;
      if (type === 0x58) {
        session.socket.end(); // Terminate
        return;
      }
      if (type === 0x53 || type === 0x51 || type === 0x48) {
        end = at; // Sync, Query, Flush close a turn
        commands.push(...found.splice(0));
      }
    }
    if (end > 0) {
      pending.push({ session, request: Buffer.from(session.buffer.subarray(0, end)), commands });
      session.buffer = session.buffer.subarray(end);
      void pump();
    }
  };

  const server = createServer((socket) => {
    const session: Session = {
      id: nextId++,
      socket,
      buffer: Buffer.alloc(0),
      started: false,
      auth: { state: "initial" },
      user: "",
      channels: new Set(),
      held: [],
    };
    sessions.add(session);
    socket.setNoDelay(true);
    socket.on("data", (data) => onData(session, data));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => void release(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, resolve);
  }).catch(async (error: unknown) => {
    await db.close();
    await releaseDataDir();
    throw error;
  });
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@${host}:${options.port}/postgres`,
    async stop() {
      clearTimeout(turnTimer);
      for (const session of sessions) session.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
      await releaseDataDir();
    },
  };
}
