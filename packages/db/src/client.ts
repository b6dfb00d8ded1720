import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { sealAuditChains } from "./audit-chain";
import type { DbEnv } from "./env";
import * as schema from "./schema";
import { makePrivateDir } from "./private-dir";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DbHandle {
  db: Db;
  kind: "pglite" | "postgres";
  /** Runs the migrations, then seals audit rows written before the audit chain existed. */
  migrate(): Promise<void>;
  /**
   * LISTEN on a channel. On PostgreSQL (and the embedded server) a dedicated connection that
   * reconnects by itself; `onListen` runs each time it listens (again), so a caller can catch up
   * on what it missed while disconnected. Returns the UNLISTEN.
   */
  listen(channel: string, onNotify: (payload: string) => void, onListen?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/**
 * The migrations folder, found at run time (bundlers rewrite import.meta.url): the given
 * folder, else `packages/db/drizzle` found by walking up from the working directory.
 */
export function findMigrationsFolder(start = process.cwd()): string {
  let dir = resolve(/*turbopackIgnore: true*/ start);
  for (;;) {
    for (const candidate of [join(/*turbopackIgnore: true*/ dir, "packages/db/drizzle"), join(/*turbopackIgnore: true*/ dir, "drizzle")]) {
      if (existsSync(join(candidate, "meta/_journal.json"))) return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("database migrations not found: run from the repository (packages/db/drizzle).");
    dir = parent;
  }
}

/** PGlite in a data folder (or in memory with `memory://`) unless DATABASE_URL names a PostgreSQL server. */
export async function createDb(env: DbEnv, options: { migrationsFolder?: string } = {}): Promise<DbHandle> {
  const migrationsFolder = () => options.migrationsFolder ?? findMigrationsFolder();
  if (env.DATABASE_URL) {
    const client = postgres(env.DATABASE_URL, { max: 10, onnotice: () => {}, prepare: env.DATABASE_PREPARE === "true" });
    const db = drizzlePostgres(client, { schema });
    return {
      db: db as unknown as Db,
      kind: "postgres",
      migrate: async () => {
        await migratePostgres(db, { migrationsFolder: migrationsFolder() });
        await sealAuditChains(db as unknown as Db);
      },
      async listen(channel, onNotify, onListen) {
        const { unlisten } = await client.listen(channel, onNotify, onListen);
        return unlisten;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const inMemory = env.PGLITE_DIR === "memory://";
  if (!inMemory) await makePrivateDir(env.PGLITE_DIR);
  const client = inMemory ? new PGlite() : new PGlite(env.PGLITE_DIR);
  const db = drizzlePglite(client, { schema });
  return {
    db: db as unknown as Db,
    kind: "pglite",
    migrate: async () => {
      await migratePglite(db, { migrationsFolder: migrationsFolder() });
      await sealAuditChains(db as unknown as Db);
    },
    async listen(channel, onNotify, onListen) {
      const unlisten = await client.listen(channel, onNotify);
      onListen?.();
      return unlisten;
    },
    close: () => client.close(),
  };
}
