import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchEachOnceWithWrk } from "./wrk-each-once";

const hasWrk = (() => {
  try {
    execFileSync("sh", ["-c", "command -v wrk"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasWrk)("fetchEachOnceWithWrk", () => {
  const seen = new Map<string, number>();
  let server: Server;
  let origin: string;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "wrk-each-once-"));
    // A few milliseconds a path, so that the run takes a while; /missing/… answers 404.
    server = createServer((request, response) => {
      seen.set(request.url!, (seen.get(request.url!) ?? 0) + 1);
      setTimeout(() => {
        response.statusCode = request.url!.startsWith("/missing/") ? 404 : 200;
        response.end("tile");
      }, 2);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it("asks each path exactly once and ends when they are answered, long before the deadline", async () => {
    seen.clear();
    const paths = [...Array.from({ length: 997 }, (_, i) => `/tile/${i}?t=x`), "/missing/1", "/missing/2", "/missing/3"];
    await writeFile(join(dir, "paths.txt"), paths.join("\n"));
    const started = performance.now();
    const result = await fetchEachOnceWithWrk({
      origin,
      pathsFile: join(dir, "paths.txt"),
      paths: paths.length,
      threads: 2,
      connections: 20,
      deadlineSeconds: 30,
    });
    expect((performance.now() - started) / 1000).toBeLessThan(15);
    expect(result).toMatchObject({ complete: true, answered: 1000, paths: 1000, non200: 3, errors: 0, statuses: "3×404" });
    expect(result.seconds).toBeGreaterThan(0);
    expect(result.seconds).toBeLessThan(15);
    expect([...seen.keys()].sort()).toEqual([...paths].sort());
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  }, 60_000);

  it("ends at the deadline, reported incomplete, when a path is never answered", async () => {
    seen.clear();
    const hanging = createServer((request, response) => {
      seen.set(request.url!, (seen.get(request.url!) ?? 0) + 1);
      if (request.url !== "/never") response.end("tile");
    });
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    try {
      const paths = ["/never", ...Array.from({ length: 9 }, (_, i) => `/tile/${i}`)];
      await writeFile(join(dir, "hanging.txt"), paths.join("\n"));
      const started = performance.now();
      const result = await fetchEachOnceWithWrk({
        origin: `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`,
        pathsFile: join(dir, "hanging.txt"),
        paths: paths.length,
        threads: 2,
        connections: 4,
        deadlineSeconds: 2,
      });
      expect((performance.now() - started) / 1000).toBeLessThan(8);
      expect(result).toMatchObject({ complete: false, answered: 9, paths: 10 });
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
    }
  }, 30_000);
});
