import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

/** The node agent's settings, read and checked once. */
const schema = z.object({
  PATHX_NODE_CONFIG: z.string().default(join(homedir(), ".pathx", "node.json")),
  /** Key shared by the labs and unknown to the hub: patient ids leave the lab only as HMAC-SHA-256 pseudonyms. */
  PATHX_PSEUDONYM_KEY: z.string().min(16, "PATHX_PSEUDONYM_KEY must be at least 16 characters").optional(),
  /**
   * How long the node waits for the hub's answer to one request (plus the time its body takes
   * at a slow link's pace) before it counts the attempt as failed and tries again: a proxy or a
   * connection that died without closing must not hold an upload for ever.
   */
  PATHX_HUB_ANSWER_SECONDS: z.coerce.number().positive().default(60),
});

export type NodeEnv = z.infer<typeof schema>;

export function readNodeEnv(source: Record<string, string | undefined> = process.env): NodeEnv {
  const parsed = schema.safeParse(source);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return parsed.data;
}
