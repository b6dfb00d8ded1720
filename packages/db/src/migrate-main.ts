import { createDb } from "./client";
import { readDbEnv } from "./env";

// The one-off migration task (terraform's `migrate`, scripts/container/start.sh migrate):
// applies packages/db/drizzle to DATABASE_URL and exits.
const handle = await createDb(readDbEnv());
await handle.migrate();
await handle.close();
console.log("migrations applied");
