import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import { StorageError } from "@pathx/storage";
import { type RevocationList, type TileTokenPayload, verifyTileToken } from "@pathx/tile-token";
import { isWsiError } from "@pathx/wsi";
import { BusyError, type Limiter } from "./limiter";
import type { Pyramid, PyramidRegistry } from "./pyramids";

export interface TileServerDeps {
  secret: string;
  hubOrigin: string;
  cacheControl: "private" | "public";
  maxAgeSeconds: number;
  timeoutMs: number;
  pyramids: PyramidRegistry;
  revocations: RevocationList;
  limiter: Limiter;
  log?: (line: string) => void;
}

// /tiles/<slide>/<version>/slide.dzi and /tiles/<slide>/<version>/slide_files/<level>/<col>_<row>.<format>
const ROUTE =
  /^\/tiles\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/([a-z0-9]{1,40})\/(?:slide\.dzi|slide_files\/(\d{1,2})\/(\d{1,6})_(\d{1,6})\.(jpeg|png))$/;
// Codes of a tile whose stored bytes cannot be made into an image: the slide is damaged there.

/** The tile service's HTTP answers: one line of text for every refusal, never a stack trace. */
export function createTileHandler(deps: TileServerDeps) {
  const log = deps.log ?? ((line: string) => console.error(line));
  const cors = { "access-control-allow-origin": deps.hubOrigin, "timing-allow-origin": deps.hubOrigin };
  const text = (res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(status, { ...cors, "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff", ...extra });
    res.end(`${message}\n`);
  };

  // Tokens seen valid: a viewer sends the same token with every tile of a few minutes, so its
  // HMAC is checked once; slide, version, expiry and revocation are still checked per request.
  const verified = new Map<string, TileTokenPayload>();
  const checkToken = (token: string, slideId: string, version: string): TileTokenPayload | undefined => {
    const known = verified.get(token);
    if (known && known.slideId === slideId && known.version === version && known.expiresAt > Date.now()) return known;
    const check = verifyTileToken(deps.secret, token, { slideId, version });
    if (!check.ok) return undefined;
    if (verified.size >= 10_000) verified.clear();
    verified.set(token, check.payload);
    return check.payload;
  };

  return async function handle(req: IncomingMessage, res: ServerResponse) {
    try {
      const raw = req.url ?? "/";
      const q = raw.indexOf("?");
      const pathname = q < 0 ? raw : raw.slice(0, q);
      if (pathname === "/healthz") return text(res, 200, "ok");
      if (req.method === "OPTIONS") {
        res.writeHead(204, { ...cors, "access-control-allow-methods": "GET, HEAD", "access-control-max-age": "86400" });
        return void res.end();
      }
      if (req.method !== "GET" && req.method !== "HEAD") return text(res, 405, "Only GET and HEAD.", { allow: "GET, HEAD" });
      const match = ROUTE.exec(pathname);
      if (!match) return text(res, 404, "Not found.");
      const [, slideId, version, level, col, row, format] = match as unknown as [string, string, string, string?, string?, string?, string?];
      const token = q < 0 ? null : new URLSearchParams(raw.slice(q + 1)).get("t");
      if (!token) return text(res, 401, "A tile token is needed: open the slide in the hub.");
      const payload = checkToken(token, slideId, version);
      // Forged, expired, another slide's, revoked: all look like a slide that is not there.
      if (!payload || deps.revocations.isRevoked(payload)) return text(res, 404, "Not found.");

      const address = level === undefined ? undefined : { level: Number(level), col: Number(col), row: Number(row), format: format as "jpeg" | "png" };
      // The URL names the pyramid version: the tile's address within it is a strong validator.
      const etag = address ? `"${version}.${address.level}.${address.col}.${address.row}.${address.format}"` : `"${version}.dzi"`;
      const headers = {
        ...cors,
        etag,
        // The URL names the pyramid version: its bytes never change.
        "cache-control": `${deps.cacheControl}, max-age=${deps.maxAgeSeconds}, immutable`,
        "content-type": address ? `image/${address.format}` : "application/xml",
        "x-content-type-options": "nosniff",
      };
      if (req.headers["if-none-match"] === etag) {
        res.writeHead(304, headers);
        return void res.end();
      }
      const send = (body: Uint8Array) => {
        res.writeHead(200, { ...headers, "content-length": String(body.byteLength) });
        res.end(req.method === "HEAD" ? undefined : body);
      };
      // A tile already in memory is answered at once, without a place in line or a deadline.
      const open = address && deps.pyramids.peek(slideId, version);
      const ready = open && open.format === address.format ? open.peek?.(address.level, address.col, address.row) : undefined;
      if (ready) return send(ready);
      const body = await deps.limiter.run(deps.timeoutMs, async (signal) => {
        const pyramid: Pyramid | undefined = await deps.pyramids.get(slideId, version, signal);
        if (!pyramid) return undefined;
        if (!address) return Buffer.from(pyramid.dzi);
        if (address.format !== pyramid.format) return undefined;
        return pyramid.tile(address.level, address.col, address.row, signal);
      });
      if (!body) return text(res, 404, "Not found.");
      send(body);
    } catch (error) {
      if (error instanceof BusyError) return text(res, 503, "The slide store is slow or unavailable right now; try again in a moment.", { "retry-after": "2" });
      // Missing objects and tiles, damaged files: the error table's status and message (@pathx/errors); the rest is ours.
      if ((error instanceof StorageError || isWsiError(error)) && error.httpStatus < 500) return text(res, error.httpStatus, error.spec.message);
      log(`[tiles] ${req.method} ${(req.url ?? "").split("?")[0]} failed: ${(error as Error)?.message ?? String(error)}`);
      return text(res, 500, "The tile service failed on this tile; try again, and report it if it persists.");
    }
  };
}

export function createTileServer(deps: TileServerDeps): Server {
  const handle = createTileHandler(deps);
  const server = createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 65_000; // longer than the load balancer's idle timeout
  server.headersTimeout = 66_000;
  return server;
}
