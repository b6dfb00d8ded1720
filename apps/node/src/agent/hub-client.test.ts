import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { NODE_PROTOCOL_VERSION, PROTOCOL_HEADER, nodeRoutes } from "@pathx/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HubError, callHub } from "./hub-client";

// A hub of another release is played by a plain HTTP server: each path answers as such a hub would.
const answers: Record<string, { status: number; body: string; protocol?: string }> = {
  "/api/node/policy": { status: 200, body: JSON.stringify({ shareLabelMacro: true }), protocol: String(NODE_PROTOCOL_VERSION) },
  "/api/node/status": { status: 200, body: JSON.stringify({ ok: true }) },
  "/api/node/orders": {
    status: 200,
    body: JSON.stringify({ orders: [{ orderId: "o", slideId: "s", fileName: "a.svs" }] }),
    protocol: String(NODE_PROTOCOL_VERSION),
  },
  "/api/node/audit": {
    status: 200,
    body: JSON.stringify({ labId: "l", checkpoint: null, keyId: "k", publicKey: "p" }),
    protocol: String(NODE_PROTOCOL_VERSION + 1),
  },
  "/api/node/index": { status: 200, body: "<html>a proxy's page</html>" },
  "/api/node/uploads": { status: 409, body: JSON.stringify({ error: "This order is already fulfilled." }), protocol: String(NODE_PROTOCOL_VERSION) },
};
const seen: Record<string, string | undefined> = {};
let server: Server;
let hub: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    seen[path] = req.headers[PROTOCOL_HEADER] as string | undefined;
    const answer = answers[path] ?? { status: 404, body: "{}" };
    res.writeHead(answer.status, { "content-type": "application/json", ...(answer.protocol ? { [PROTOCOL_HEADER]: answer.protocol } : {}) });
    res.end(answer.body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  hub = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: unknown) => error as HubError,
  );

describe("callHub", () => {
  it("returns an answer of the route's shape and says which protocol the node speaks", async () => {
    expect(await callHub(hub, nodeRoutes.policy, { credential: "pxn_x" })).toEqual({ shareLabelMacro: true });
    expect(seen["/api/node/policy"]).toBe(String(NODE_PROTOCOL_VERSION));
    // A hub from before the protocol header is taken at its word when its answers fit.
    expect(await callHub(hub, nodeRoutes.status, { json: { queueDepth: 0, lastError: null } })).toEqual({ ok: true });
  });

  it("refuses a hub that says it speaks another protocol, naming both versions", async () => {
    const error = await refusal(callHub(hub, nodeRoutes.auditCheckpoint, {}));
    expect(error).toBeInstanceOf(HubError);
    expect(error!.message).toContain(`speaks node protocol ${NODE_PROTOCOL_VERSION + 1}, this node speaks ${NODE_PROTOCOL_VERSION}`);
    expect([error!.code, error!.hubCode, error!.exitCode]).toEqual(["PROTOCOL_MISMATCH", undefined, 1]);
  });

  it("refuses an answer of another shape, saying what is wrong with it", async () => {
    const error = await refusal(callHub(hub, nodeRoutes.orders, { params: { wait: 0 } }));
    expect(error).toBeInstanceOf(HubError);
    expect(error!.message).toMatch(/answered GET \/api\/node\/orders in a form this node does not understand \(orders\.0\.ref: /);
    const notJson = await refusal(callHub(hub, nodeRoutes.index, { body: Buffer.from("{}") }));
    expect(notJson!.message).toMatch(/does not understand .*the hub did not say which/);
  });

  it("passes a refusal's status and message on as they are", async () => {
    const error = await refusal(
      callHub(hub, nodeRoutes.startUpload, {
        json: { fileName: "a.svs", size: 100, sha256: "a".repeat(64), meta: { accessionNumber: "A", block: "", stain: "", specimen: "" } },
      }),
    );
    expect(error).toBeInstanceOf(HubError);
    expect(error!.status).toBe(409);
    expect(error!.message).toBe("This order is already fulfilled.");
    // The hub's code, read back from the status through the error table.
    expect([error!.code, error!.hubCode, error!.exitCode]).toEqual(["HUB_REFUSED", "CONFLICT", 1]);
  });

  it("says so when the hub cannot be reached", async () => {
    const error = await refusal(callHub("http://127.0.0.1:9", nodeRoutes.policy, {}, 1));
    expect(error).toBeInstanceOf(HubError);
    expect([error!.status, error!.code, error!.hubCode]).toEqual([0, "HUB_UNREACHABLE", undefined]);
    expect(error!.message).toMatch(/^cannot reach the hub at http:\/\/127.0.0.1:9 /);
  });
});
