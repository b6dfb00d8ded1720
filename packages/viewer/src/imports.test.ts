import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// The viewer runs in the browser and gets the network from the hub: it may import React,
// OpenSeadragon and its own files, never the hub's server packages (api, db, storage) or Next.
const allowed = new Set(["react", "react-dom", "openseadragon"]);
const testOnly = new Set(["vitest", "node:fs", "node:path"]);

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourcesUnder(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

function importsOf(source: string): string[] {
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"|import\(\s*"([^"]+)"\s*\)/g)].map((m) => (m[1] ?? m[2])!);
}

describe("what the viewer imports", () => {
  it("only React, OpenSeadragon and its own files", () => {
    const found: string[] = [];
    for (const file of sourcesUnder(import.meta.dirname)) {
      const isTest = file.endsWith(".test.ts");
      for (const target of importsOf(readFileSync(file, "utf8"))) {
        if (target.startsWith(".") || allowed.has(target) || (isTest && testOnly.has(target))) continue;
        found.push(`${file}: ${target}`);
      }
    }
    expect(found).toEqual([]);
  });

  it("sees the imports it checks", () => {
    expect(importsOf('import { a } from "@pathx/api";\nexport { b } from "./b";\nconst m = import("openseadragon");')).toEqual([
      "@pathx/api",
      "./b",
      "openseadragon",
    ]);
  });
});
