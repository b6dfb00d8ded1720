import { createDb } from "../client";
import { readDbEnv } from "../env";

/** A migrated in-memory PGlite database for one test file. */
export async function createTestDb() {
  const handle = await createDb(readDbEnv({ PGLITE_DIR: "memory://" }));
  await handle.migrate();
  return handle;
}
