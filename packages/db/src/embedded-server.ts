import { type Socket, createServer } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import { makePrivateDir } from "./private-dir";

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;

interface Session {
  id: number;
  socket: Socket;
  buffer: Buffer;
  started: boolean;
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
  if (type === 0x50) at = message.indexOf(0, at) + 1; // Parse: skip the statement name
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
 */
export async function startEmbeddedDbServer(options: { dataDir: string; port: number; host?: string }) {
  await makePrivateDir(options.dataDir);
  const db = await PGlite.create(options.dataDir);
  const host = options.host ?? "127.0.0.1";
  const pending: { session: Session; request: Buffer; commands: ListenCommand[] }[] = [];
  const sessions = new Set<Session>();
  let owner: Session | undefined; // the connection whose transaction is open
  let running = false;
  let nextId = 1;

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
      await db.runExclusive(() => db.exec("ROLLBACK")).catch(() => {});
    }
    void pump();
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
        at += length;
        end = at;
        continue;
      }
      if (session.buffer.length < at + 5) break;
      const type = session.buffer[at]!;
      const length = session.buffer.readInt32BE(at + 1);
      if (session.buffer.length < at + 1 + length) break;
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
    const session: Session = { id: nextId++, socket, buffer: Buffer.alloc(0), started: false, channels: new Set(), held: [] };
    sessions.add(session);
    socket.setNoDelay(true);
    socket.on("data", (data) => onData(session, data));
    socket.on("error", () => socket.destroy());
    socket.on("close", () => void release(session));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, host, resolve);
  });
  return {
    url: `postgres://postgres:postgres@${host}:${options.port}/postgres`,
    async stop() {
      for (const session of sessions) session.socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.close();
    },
  };
}
