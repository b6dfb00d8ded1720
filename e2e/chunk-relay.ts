import { type IncomingMessage, type ServerResponse, createServer } from "node:http";

/**
 * A relay between a lab node and the hub that counts the chunks the hub confirmed. After
 * `holdAfter` of them it holds every further chunk unanswered (the node is then mid-upload, for
 * as long as the test needs) until `release()`.
 */
export async function startChunkRelay(hubUrl: string, holdAfter: number) {
  let confirmed = 0;
  let holding = true;
  let reached = () => {};
  const limitReached = new Promise<void>((r) => (reached = r));
  const held = new Set<ServerResponse>();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    for await (const part of req) parts.push(part as Buffer);
    const isChunk = /\/chunks\/\d+$/.test(req.url ?? "");
    if (isChunk && holding && confirmed >= holdAfter) {
      held.add(res);
      return;
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !["host", "content-length", "connection"].includes(k))) as Record<
      string,
      string
    >;
    try {
      const answer = await fetch(new URL(req.url ?? "/", hubUrl), {
        method: req.method,
        headers,
        body: ["GET", "HEAD"].includes(req.method ?? "") ? undefined : Buffer.concat(parts),
      });
      if (isChunk && answer.ok && ++confirmed === holdAfter) reached();
      res.writeHead(answer.status, { "content-type": answer.headers.get("content-type") ?? "application/json" });
      res.end(Buffer.from(await answer.arrayBuffer()));
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    limitReached,
    /** Chunks the hub confirmed through this relay. */
    confirmed: () => confirmed,
    release() {
      holding = false;
      for (const res of held) res.destroy();
      held.clear();
    },
    close() {
      server.closeAllConnections();
      server.close();
    },
  };
}
