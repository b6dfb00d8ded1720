import { mkdir } from "node:fs/promises";
import { type Socket, createServer } from "node:net";
import { PGlite } from "@electric-sql/pglite";

const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;

interface Session {
  id: number;
  socket: Socket;
  buffer: Buffer;
  started: boolean;
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
 */
export async function startEmbeddedDbServer(options: { dataDir: string; port: number; host?: string }) {
  await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const host = options.host ?? "127.0.0.1";
  const pending: { session: Session; request: Buffer }[] = [];
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
        const [{ session, request }] = pending.splice(index, 1) as [{ session: Session; request: Buffer }];
        const response = await db.runExclusive(() => db.execProtocolRaw(request));
        // The connection keeps its turn until ReadyForQuery says idle ('I'): a Flush answer has
        // none (the client sends Bind next), and 'T' / 'E' mean its transaction is open.
        const idle = response.length >= 6 && response[response.length - 6] === 0x5a && response[response.length - 1] === 0x49;
        owner = idle ? undefined : session;
        if (!session.socket.destroyed) session.socket.write(response);
      }
    } finally {
      running = false;
    }
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
      at += 1 + length;
      if (type === 0x58) {
        session.socket.end(); // Terminate
        return;
      }
      if (type === 0x53 || type === 0x51 || type === 0x48) end = at; // Sync, Query, Flush close a turn
    }
    if (end > 0) {
      pending.push({ session, request: Buffer.from(session.buffer.subarray(0, end)) });
      session.buffer = session.buffer.subarray(end);
      void pump();
    }
  };

  const server = createServer((socket) => {
    const session: Session = { id: nextId++, socket, buffer: Buffer.alloc(0), started: false };
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
