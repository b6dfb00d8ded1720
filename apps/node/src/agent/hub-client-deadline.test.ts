import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { nodeRoutes } from "@pathx/protocol";
import { afterEach, expect, it } from "vitest";
import { HubError, callHub } from "./hub-client";

// A hub (or a proxy in front of it) that takes a request and never finishes its answer, as one
// that crashed or a connection that died without closing: the node must try again, not wait.
const servers: ReturnType<typeof createServer>[] = [];
async function startHub(answer: (attempt: number, req: IncomingMessage, res: ServerResponse) => void) {
  let attempts = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => answer(++attempts, req, res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, attempts: () => attempts };
}

afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

// Fits both routes used below: a chunk's answer ({ ok }) and the policy ({ shareLabelMacro }).
const ok = (res: ServerResponse) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, shareLabelMacro: true }));
const chunk = { params: { uploadId: "u", index: 0 } };

it("tries again when the hub takes a request and never answers it", async () => {
  const hub = await startHub((attempt, _req, res) => attempt > 1 && ok(res));
  expect(await callHub(hub.url, nodeRoutes.sendChunk, { ...chunk, body: new Uint8Array(1000), answerSeconds: 0.3 })).toEqual({ ok: true });
  expect(hub.attempts()).toBe(2);
});

it("tries again when the answer's body stops half-way", async () => {
  const hub = await startHub((attempt, _req, res) => {
    if (attempt > 1) return ok(res);
    res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
    res.write('{"ok":'); // and nothing more
  });
  expect(await callHub(hub.url, nodeRoutes.policy, { answerSeconds: 0.3 })).toEqual({ shareLabelMacro: true });
  expect(hub.attempts()).toBe(2);
});

it("gives up after its attempts and says the hub did not answer", async () => {
  const hub = await startHub(() => {});
  const failed = callHub(hub.url, nodeRoutes.policy, { answerSeconds: 0.2 }, 2);
  await expect(failed).rejects.toThrow(HubError);
  await expect(failed).rejects.toThrow(/cannot reach the hub .*no answer within 0\.2 s/);
  expect(hub.attempts()).toBe(2);
});

it("still answers a long request in time: the bound grows with the body at a slow link's pace", async () => {
  let waited = 0;
  const hub = await startHub((_attempt, _req, res) => {
    const began = Date.now();
    setTimeout(() => {
      waited = Date.now() - began;
      ok(res);
    }, 400);
  });
  // 0.1 s for the answer plus 64 KiB of body at 64 KiB/s: one attempt, answered after 0.4 s.
  expect(await callHub(hub.url, nodeRoutes.sendChunk, { ...chunk, body: new Uint8Array(64 * 1024), answerSeconds: 0.1 })).toEqual({ ok: true });
  expect(hub.attempts()).toBe(1);
  expect(waited).toBeGreaterThanOrEqual(399);
});
