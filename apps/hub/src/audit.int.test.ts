import { execFile } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { and, desc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DbHandle, createDb, readDbEnv, schema } from "@pathx/db";
import { type HubProcess, runPathx, signInOverHttp, startHubProcess } from "@pathx/node/test-support";

// The hub as `npm start` runs it, a lab node as the `pathx` command line, and the database
// reached directly, as someone tampering with it would.
const PORT = 3455 + Number(process.env.PATHX_TEST_PORT_OFFSET ?? 0);
const root = resolve(import.meta.dirname, "../../..");
let hub: HubProcess;
let work: string;
let db: DbHandle;
let northAdmin: Awaited<ReturnType<typeof signInOverHttp>>;
let nodeEnv: Record<string, string>;
let northLabId: string;

/** The hub operator's check, as documented: `npm run -w apps/hub audit:verify -- --lab north`. */
async function hubVerify(): Promise<{ code: number; stdout: string }> {
  const env = { ...process.env, DATABASE_URL: hub.databaseUrl, DATABASE_PREPARE: "false", AUDIT_KEY_FILE: join(work, "hub", "audit-signing-key.pem") };
  try {
    const { stdout } = await promisify(execFile)(join(root, "node_modules/.bin/tsx"), [join(root, "apps/hub/scripts/audit-verify.ts"), "--lab", "north"], {
      env,
      cwd: join(root, "apps/hub"),
    });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout + e.stderr };
  }
}

/** What the owner of the database can do despite the trigger. */
async function tamper(...statements: ReturnType<typeof sql>[]) {
  await db.db.execute(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`);
  await db.db.execute(sql`ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only`);
  try {
    for (const s of statements) await db.db.execute(s);
  } finally {
    await db.db.execute(sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`);
    await db.db.execute(sql`ALTER TABLE audit_checkpoints ENABLE TRIGGER audit_checkpoints_append_only`);
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), "pathx-audit-"));
  hub = await startHubProcess({ port: PORT, dataDir: join(work, "hub") });
  northAdmin = await signInOverHttp(hub.url, "admin@north.example");
  const { token } = await northAdmin.mutate<{ token: string }>("nodes.createEnrollmentToken");
  nodeEnv = { PATHX_NODE_CONFIG: join(work, "node", "node.json") };
  expect((await runPathx(["node", "enroll", "--hub", hub.url, "--token", token, "--name", "north-node"], nodeEnv)).code).toBe(0);
  db = await createDb(readDbEnv({ DATABASE_URL: hub.databaseUrl, DATABASE_PREPARE: "false" }));
  const [lab] = await db.db.select({ id: schema.labs.id }).from(schema.labs).where(eq(schema.labs.slug, "north"));
  northLabId = lab!.id;
}, 600_000);

afterAll(async () => {
  await db?.close();
  await hub?.stop();
  await rm(work, { recursive: true, force: true });
});

describe("the audit chain through the running hub", () => {
  it("records administrative acts with the TCP peer's address, not a forwarded header the client wrote", async () => {
    const response = await fetch(`${hub.url}/api/trpc/lab.setShareLabelMacro`, {
      method: "POST",
      headers: {
        cookie: northAdmin.cookie(),
        "content-type": "application/json",
        "x-forwarded-for": "203.0.113.66",
        "x-real-ip": "203.0.113.66",
        "x-pathx-peer": "198.51.100.1",
      },
      body: JSON.stringify({ share: false }),
    });
    expect(response.status).toBe(200);
    const [entry] = await db.db
      .select()
      .from(schema.auditEvents)
      .where(and(eq(schema.auditEvents.labId, northLabId), eq(schema.auditEvents.action, "admin.lab.setShareLabelMacro")))
      .orderBy(desc(schema.auditEvents.seq))
      .limit(1);
    expect(entry).toMatchObject({ ip: "127.0.0.1", detail: { share: false } });
    const actions = (await db.db.select({ action: schema.auditEvents.action }).from(schema.auditEvents).where(eq(schema.auditEvents.labId, northLabId))).map(
      (r) => r.action,
    );
    expect(actions).toEqual(expect.arrayContaining(["admin.nodes.createEnrollmentToken", "node.enrol", "admin.lab.setShareLabelMacro"]));
  });

  it("lets the lab's node keep signed witnesses and verify the chain; an edit is located by node and hub", async () => {
    const pulled = await runPathx(["audit", "pull"], nodeEnv);
    expect(pulled).toMatchObject({ code: 0, stdout: expect.stringMatching(/audit checkpoint of .*: entry \d+/) });
    expect((await stat(join(work, "node", "audit-witnesses.json"))).mode & 0o777).toBe(0o600);
    const ok = await runPathx(["audit", "verify"], nodeEnv);
    expect(ok).toMatchObject({ code: 0, stdout: expect.stringMatching(/OK, \d+ entries/) });
    expect(await hubVerify()).toMatchObject({ code: 0, stdout: expect.stringMatching(/North.*: OK/) });

    const [second] = await db.db
      .select()
      .from(schema.auditEvents)
      .where(and(eq(schema.auditEvents.labId, northLabId), eq(schema.auditEvents.seq, 2)));
    await tamper(sql`UPDATE audit_events SET target_id = 'someone-else' WHERE lab_id = ${northLabId} AND seq = 2`);
    const edited = await runPathx(["audit", "verify"], nodeEnv);
    expect(edited.code).toBe(1);
    expect(edited.stderr).toMatch(/BROKEN at entry 2: entry 2 does not match its hash/);
    expect(await hubVerify()).toMatchObject({ code: 1, stdout: expect.stringMatching(/BROKEN at entry 2/) });
    await tamper(sql`UPDATE audit_events SET target_id = ${second!.targetId} WHERE lab_id = ${northLabId} AND seq = 2`);
    expect((await runPathx(["audit", "verify"], nodeEnv)).code).toBe(0);
  });

  it("catches a truncated chain through the node's witness even when the hub's checkpoints are deleted too", async () => {
    await northAdmin.mutate("lab.setShareLabelMacro", { share: false });
    expect((await runPathx(["audit", "pull"], nodeEnv)).code).toBe(0);
    await tamper(sql`DELETE FROM audit_events WHERE lab_id = ${northLabId} AND seq > 1`, sql`DELETE FROM audit_checkpoints WHERE lab_id = ${northLabId}`);
    expect(await hubVerify()).toMatchObject({ code: 0 }); // the hub's own records agree with each other now
    const truncated = await runPathx(["audit", "verify"], nodeEnv);
    expect(truncated.code).toBe(1);
    expect(truncated.stderr).toMatch(/truncated/);
  });
});
