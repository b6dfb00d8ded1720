import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ApiError, createEnrollmentToken, enrollNode } from "@pathx/api";
import { type DbHandle, schema } from "@pathx/db";
import { createTestDb } from "@pathx/db/test-support";
import { AGENT_VERSION_HEADER, NODE_PROTOCOL_VERSION, PROTOCOL_HEADER } from "@pathx/protocol";
import { answerNodeRequest, checkNodeProtocol, nodeJson, readNodeJson } from "./node-api";

let handle: DbHandle;
let labId: string;
let credential: string;
let nodeId: string;

beforeAll(async () => {
  handle = await createTestDb();
  const [lab] = await handle.db.insert(schema.labs).values({ slug: "a", name: "A" }).returning();
  const [user] = await handle.db.insert(schema.users).values({ email: "admin@a.example", name: "Admin" }).returning();
  labId = lab!.id;
  const { token } = await createEnrollmentToken(handle.db, labId, user!.id);
  const enrolled = await enrollNode(handle.db, token, { name: "scanner room" });
  credential = enrolled.credential;
  nodeId = enrolled.nodeId;
});

afterAll(() => handle.close());

const nodeRequest = (headers: Record<string, string>, body?: string) =>
  new Request("https://hub.example/api/node/heartbeat", { method: "POST", headers, ...(body === undefined ? {} : { body }) });
const errorOf = async (response: Response) => ((await response.json()) as { error: string }).error;

describe("answerNodeRequest", () => {
  it("refuses a request without a credential, with a wrong one and with a revoked node's (401), without running the route", async () => {
    let ran = 0;
    const run = async () => {
      ran++;
      return { ok: true };
    };
    for (const headers of [
      {} as Record<string, string>,
      { authorization: "Bearer pxn_not-a-real-credential" },
      { authorization: `Basic ${credential}` },
      { authorization: credential },
    ]) {
      const response = await answerNodeRequest(nodeRequest(headers), handle.db, run);
      expect(response.status).toBe(401);
      expect(await errorOf(response)).toContain("not enrolled, or it was revoked");
      expect(response.headers.get(PROTOCOL_HEADER)).toBe(String(NODE_PROTOCOL_VERSION));
    }
    expect(ran).toBe(0);
  });

  it("runs the route for an enrolled node, as that node and its lab, and records its version", async () => {
    const response = await answerNodeRequest(
      nodeRequest({ authorization: `Bearer ${credential}`, [AGENT_VERSION_HEADER]: "9.9.9" }),
      handle.db,
      async (node) => ({ seen: node }),
    );
    expect(response.status).toBe(200);
    expect(response.headers.get(PROTOCOL_HEADER)).toBe(String(NODE_PROTOCOL_VERSION));
    expect(await response.json()).toEqual({ seen: { id: nodeId, labId, name: "scanner room" } });
    const [row] = await handle.db.select().from(schema.nodes).where(eq(schema.nodes.id, nodeId));
    expect(row!.version).toBe("9.9.9");
    expect(row!.lastSeenAt).toBeInstanceOf(Date);
  });

  it("refuses a node that speaks another protocol (400) and says which, without running the route", async () => {
    let ran = false;
    const response = await answerNodeRequest(
      nodeRequest({ authorization: `Bearer ${credential}`, [PROTOCOL_HEADER]: String(NODE_PROTOCOL_VERSION + 1) }),
      handle.db,
      async () => {
        ran = true;
        return {};
      },
    );
    expect(ran).toBe(false);
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toContain(`node protocol ${NODE_PROTOCOL_VERSION + 1}, this hub speaks ${NODE_PROTOCOL_VERSION}`);
  });

  it("keeps a route's own Response, adding the protocol header", async () => {
    const response = await answerNodeRequest(
      nodeRequest({ authorization: `Bearer ${credential}`, [PROTOCOL_HEADER]: String(NODE_PROTOCOL_VERSION) }),
      handle.db,
      async () => new Response("[1,2]", { status: 202 }),
    );
    expect(response.status).toBe(202);
    expect(await response.text()).toBe("[1,2]");
    expect(response.headers.get(PROTOCOL_HEADER)).toBe(String(NODE_PROTOCOL_VERSION));
  });

  it("answers a domain error with its status and message, anything else with a 500 that hides the cause", async () => {
    const authorized = () => nodeRequest({ authorization: `Bearer ${credential}` });
    const notFound = await answerNodeRequest(authorized(), handle.db, async () => {
      throw new ApiError("NOT_FOUND", "No such upload.");
    });
    expect(notFound.status).toBe(404);
    expect(await errorOf(notFound)).toBe("No such upload.");
    const quiet = console.error;
    console.error = () => {};
    try {
      const failed = await answerNodeRequest(authorized(), handle.db, async () => {
        throw new Error("connection to the database lost: secret detail");
      });
      expect(failed.status).toBe(500);
      expect(await errorOf(failed)).not.toContain("secret detail");
    } finally {
      console.error = quiet;
    }
  });

  it("stops answering a node once it is revoked", async () => {
    const { token } = await createEnrollmentToken(handle.db, labId, (await handle.db.select().from(schema.users))[0]!.id);
    const other = await enrollNode(handle.db, token, { name: "old scanner" });
    const request = () => nodeRequest({ authorization: `Bearer ${other.credential}` });
    expect((await answerNodeRequest(request(), handle.db, async () => ({}))).status).toBe(200);
    await handle.db.update(schema.nodes).set({ revokedAt: new Date() }).where(eq(schema.nodes.id, other.nodeId));
    expect((await answerNodeRequest(request(), handle.db, async () => ({}))).status).toBe(401);
  });
});

describe("readNodeJson", () => {
  const schemaOf = z.object({ name: z.string().min(1), chunks: z.number().int() });
  const limits = { limit: 64, timeoutMs: 5_000 };

  it("reads a body that fits and matches the schema", async () => {
    expect(await readNodeJson(nodeRequest({}, JSON.stringify({ name: "s.svs", chunks: 3 })), schemaOf, "upload start", limits)).toEqual({
      name: "s.svs",
      chunks: 3,
    });
  });

  it("says which fields are wrong", async () => {
    const error = await readNodeJson(nodeRequest({}, JSON.stringify({ name: "", chunks: 1.5 })), schemaOf, "upload start", limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe("BAD_REQUEST");
    expect((error as ApiError).message).toMatch(/^Invalid upload start: name: .+; chunks: .+/);
  });

  it("refuses a body over the limit and one that is not JSON", async () => {
    const big = await readNodeJson(nodeRequest({}, JSON.stringify({ name: "x".repeat(100), chunks: 1 })), schemaOf, "upload start", limits).catch(
      (e: unknown) => e,
    );
    expect((big as ApiError).code).toBe("TOO_LARGE");
    const garbled = await readNodeJson(nodeRequest({}, "{name:"), schemaOf, "upload start", limits).catch((e: unknown) => e);
    expect((garbled as ApiError).code).toBe("BAD_REQUEST");
  });
});

describe("checkNodeProtocol and nodeJson", () => {
  it("takes a node that names no protocol as speaking this one", () => {
    expect(() => checkNodeProtocol(nodeRequest({}))).not.toThrow();
    expect(() => checkNodeProtocol(nodeRequest({ [PROTOCOL_HEADER]: "0" }))).toThrow(/speaks node protocol 0/);
  });

  it("names the protocol on every answer", async () => {
    const response = nodeJson({ a: 1 }, { status: 201 });
    expect(response.status).toBe(201);
    expect(response.headers.get(PROTOCOL_HEADER)).toBe(String(NODE_PROTOCOL_VERSION));
    expect(await response.json()).toEqual({ a: 1 });
  });
});
