import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The shared real slides live beside the checkout (`../shared/fixtures`), read in place and
 * never copied into the repo. PATHX_FIXTURES points elsewhere when a checkout sits alone.
 */
export function fixturePath(name: string): string {
  // Tests only: a test-support module may read the environment directly.
  const dir = process.env.PATHX_FIXTURES ?? fileURLToPath(new URL("../../../../../shared/fixtures/", import.meta.url));
  const path = `${dir.replace(/\/?$/, "/")}${name}`;
  if (!existsSync(path)) {
    throw new Error(`test slide ${name} not found at ${path}: run tests from a checkout with shared/ beside it, or set PATHX_FIXTURES.`);
  }
  return path;
}
