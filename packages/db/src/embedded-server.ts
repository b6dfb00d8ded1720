import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";

/**
 * The embedded database as a server: PGlite on a data folder, spoken to over the PostgreSQL
 * protocol on loopback, so the hub and its workers are separate processes using the same
 * client code as with a real PostgreSQL. The socket server multiplexes connections onto
 * PGlite's one session and keeps a transaction's statements together; clients must not rely
 * on session state (connect with prepared statements off).
 */
export async function startEmbeddedDbServer(options: { dataDir: string; port: number; host?: string; maxConnections?: number }) {
  await mkdir(options.dataDir, { recursive: true });
  const db = await PGlite.create(options.dataDir);
  const host = options.host ?? "127.0.0.1";
  const server = new PGLiteSocketServer({ db, port: options.port, host, maxConnections: options.maxConnections ?? 64 });
  await server.start();
  return {
    url: `postgres://postgres:postgres@${host}:${options.port}/postgres`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}
