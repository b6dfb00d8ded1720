import { readRunEnv } from "../src/env";
import { seed } from "./seed";

// `npm start`'s migrate-and-seed step as its own process (scripts/run.ts), so the modules it
// loads (queue, runtime, synthetic slides) and its garbage leave with it instead of staying in
// the process that hosts the embedded database for the hub's whole life.
await seed({ demoSlides: readRunEnv().DEMO_SLIDES === "true" });
process.exit(0);
