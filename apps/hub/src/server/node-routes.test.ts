import { readFile, readdir } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { nodeRoutes } from "@pathx/protocol";
import { expect, it } from "vitest";

const nodeApi = fileURLToPath(new URL("../app/api/node", import.meta.url));

/** Every route.ts under app/api/node, as a path pattern ([id] → one segment) and the methods it exports. */
async function readRouteFiles() {
  const files = (await readdir(nodeApi, { recursive: true })).filter((f) => f.endsWith(`${sep}route.ts`) || f === "route.ts");
  return Promise.all(
    files.map(async (file) => {
      const dir = relative(nodeApi, join(nodeApi, file, ".."))
        .split(sep)
        .filter(Boolean);
      const pattern = new RegExp(`^/api/node${dir.map((s) => `/${/^\[.+\]$/.test(s) ? "[^/]+" : s}`).join("")}$`);
      const text = await readFile(join(nodeApi, file), "utf8");
      const methods = [...text.matchAll(/export (?:async function|const) (GET|POST|PUT|DELETE|PATCH)\b/g)].map((m) => m[1]);
      return { file, pattern, methods };
    }),
  );
}

const sample = { uploadId: "0b7d3c1e-5f2a-4c8e-9d1b-2a3f4e5d6c7b", orderId: "0b7d3c1e-5f2a-4c8e-9d1b-2a3f4e5d6c7b", index: 0, wait: 1, after: 0 };

// The protocol and the route files are two lists of the same routes: neither may have one the other lacks.
it("serves exactly the node protocol's routes, each with its method", async () => {
  const files = await readRouteFiles();
  for (const [name, route] of Object.entries(nodeRoutes)) {
    const path = (route.path as (p: typeof sample) => string)(sample).split("?")[0]!;
    const file = files.find((f) => f.pattern.test(path));
    expect(file, `${name}: no route file serves ${path}`).toBeDefined();
    expect(file!.methods, `${name}: ${file!.file}`).toContain(route.method);
  }
  const served = files.flatMap((f) => f.methods.map((m) => `${m} ${f.file}`));
  const declared = Object.values(nodeRoutes).map((route) => {
    const path = (route.path as (p: typeof sample) => string)(sample).split("?")[0]!;
    return `${route.method} ${files.find((f) => f.pattern.test(path))!.file}`;
  });
  expect(served.sort()).toEqual(declared.sort());
});
