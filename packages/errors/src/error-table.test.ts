import { describe, expect, it } from "vitest";
import { CodedError, ERROR_TABLE, type ErrorDomain, apiCodeOfHttpStatus, errorSpec } from "./error-table";

const rows = Object.entries(ERROR_TABLE).flatMap(([domain, codes]) => Object.entries(codes).map(([code, spec]) => ({ domain, code, spec })));

describe("the error table", () => {
  it("gives every code an error status, an exit code and a message", () => {
    for (const { domain, code, spec } of rows) {
      const where = `${domain}.${code}`;
      expect(spec.http, where).toBeGreaterThanOrEqual(400);
      expect(spec.http, where).toBeLessThan(600);
      expect([1, 2], where).toContain(spec.exit);
      expect(spec.message, where).toMatch(/^[A-Z].*[.)]$/);
    }
  });

  it("gives each hub code its own HTTP status, so the node reads the code back from the status", () => {
    const statuses = Object.values(ERROR_TABLE.api).map((s) => s.http);
    expect(new Set(statuses).size).toBe(statuses.length);
    for (const code of Object.keys(ERROR_TABLE.api)) expect(apiCodeOfHttpStatus(errorSpec("api", code as never).http)).toBe(code);
    expect(apiCodeOfHttpStatus(418)).toBeUndefined();
    expect(apiCodeOfHttpStatus(200)).toBeUndefined();
  });

  // The statuses and codes clients and tests rely on: changing one is a change of the protocol.
  it("keeps the statuses the hub, the tile service and the command line answer with", () => {
    const http = (domain: ErrorDomain) => Object.fromEntries(Object.entries(ERROR_TABLE[domain]).map(([code, spec]) => [code, spec.http]));
    expect(http("api")).toEqual({
      BAD_REQUEST: 400,
      UNAUTHORIZED: 401,
      FORBIDDEN: 403,
      NOT_FOUND: 404,
      TIMEOUT: 408,
      CONFLICT: 409,
      TOO_LARGE: 413,
      DAMAGED: 422,
      INTERNAL: 500,
    });
    expect(ERROR_TABLE.api.DAMAGED.trpc).toBe("UNPROCESSABLE_CONTENT");
    expect(ERROR_TABLE.api.TOO_LARGE.trpc).toBe("PAYLOAD_TOO_LARGE");
    expect(ERROR_TABLE.api.INTERNAL.trpc).toBe("INTERNAL_SERVER_ERROR");
    expect(http("storage").NOT_FOUND).toBe(404);
    expect(
      Object.entries(ERROR_TABLE.wsi)
        .filter(([, s]) => s.http === 422)
        .map(([c]) => c)
        .sort(),
    ).toEqual(["CORRUPT", "NOT_A_TIFF", "TRUNCATED", "UNSUPPORTED_COMPRESSION", "UNSUPPORTED_FORMAT"]);
    expect(
      Object.entries(ERROR_TABLE.wsi)
        .filter(([, s]) => s.http === 404)
        .map(([c]) => c)
        .sort(),
    ).toEqual(["INVALID_OPTIONS", "NOT_FOUND"]);
    expect(
      Object.entries(ERROR_TABLE.wsi)
        .filter(([, s]) => s.exit === 2)
        .map(([c]) => c),
    ).toEqual(["INVALID_OPTIONS"]);
    expect(ERROR_TABLE.node.USAGE.exit).toBe(2);
  });
});

describe("CodedError", () => {
  class ShelfError extends CodedError<"storage"> {
    constructor(code: "NOT_FOUND" | "IO_ERROR", message: string) {
      super("storage", code, message);
    }
  }

  it("takes its status, tRPC code and exit code from its row, and keeps its own message", () => {
    const missing = new ShelfError("NOT_FOUND", "no object a/b.");
    expect(missing).toBeInstanceOf(Error);
    expect([missing.httpStatus, missing.trpcCode, missing.exitCode, missing.message]).toEqual([404, "NOT_FOUND", 1, "no object a/b."]);
    expect(missing.spec.message).toBe("Not found.");
    const failed = new ShelfError("IO_ERROR", "disk full");
    expect([failed.httpStatus, failed.trpcCode]).toEqual([500, "INTERNAL_SERVER_ERROR"]);
  });
});

// The slide engine imports this package, and the engine may depend on no package that pulls others in.
it("has no dependencies and imports nothing", async () => {
  const { readFile, readdir } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as { dependencies?: Record<string, string> };
  expect(pkg.dependencies ?? {}).toEqual({});
  const dir = new URL("./", import.meta.url);
  for (const file of (await readdir(dir)).filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))) {
    const imports = [...(await readFile(new URL(file, dir), "utf8")).matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
    for (const name of imports) expect(name, file).toMatch(/^\.\//);
  }
});
