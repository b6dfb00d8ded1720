import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// Production code never imports test support, and each workspace publishes (package.json
// `exports`) only what another workspace imports; test-support subpaths only for tests, benches
// and e2e, each one named in ARCHITECTURE.md with the reason.
const root = join(import.meta.dirname, "../..");
const workspaces = ["apps", "packages"]
  .flatMap((group) => readdirSync(join(root, group)).map((name) => `${group}/${name}`))
  .concat(["bench", "e2e", "terraform"]);

function sourceFiles(dir: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    if (name === "node_modules" || name === ".next" || name.startsWith(".")) return [];
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts|mjs|cjs)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Tests, their helpers, benchmarks and e2e specs: the code allowed to use test support. */
function isTestCode(path: string): boolean {
  const rel = relative(root, path);
  return /\.(int\.)?test\.tsx?$|\.spec\.ts$|(^|\/)test-support(\/|\.ts$)|\.test-support\.ts$/.test(rel) || /^(bench|e2e)\//.test(rel);
}

/** Module specifiers a file imports (static, dynamic and re-exports). */
function importsOf(text: string): string[] {
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|require\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]!);
}

const files = workspaces.flatMap((workspace) => sourceFiles(join(root, workspace))).concat(sourceFiles(join(root, "scripts")));
const imports = files.map((path) => ({ path, rel: relative(root, path), specifiers: importsOf(readFileSync(path, "utf8")) }));

describe("test support stays out of production", () => {
  it("finds its own imports", () => {
    expect(importsOf(`import { a } from "@pathx/db/test-support";\nexport { b } from "./x";\nawait import("../test-support/y");`)).toEqual([
      "@pathx/db/test-support",
      "./x",
      "../test-support/y",
    ]);
    expect(isTestCode(join(root, "apps/hub/src/test-support/hub-processes.ts"))).toBe(true);
    expect(isTestCode(join(root, "apps/hub/scripts/seed.ts"))).toBe(false);
  });

  it("no production file imports test support", () => {
    const offenders = imports
      .filter((file) => !isTestCode(file.path))
      .flatMap((file) => file.specifiers.filter((s) => /test-support/.test(s)).map((s) => `${file.rel} imports ${s}`));
    expect(imports.length).toBeGreaterThan(300);
    expect(offenders).toEqual([]);
  });
});

describe("package exports", () => {
  const manifests = workspaces
    .map((dir) => ({ dir, json: JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as { name: string; exports?: Record<string, string> } }))
    .filter((m) => m.json.exports);
  const architecture = readFileSync(join(root, "ARCHITECTURE.md"), "utf8");

  it("each subpath beyond the main entry is imported by another workspace, test-support subpaths by tests only, and each is named in ARCHITECTURE.md", () => {
    const problems: string[] = [];
    for (const { dir, json } of manifests) {
      for (const [subpath, target] of Object.entries(json.exports!)) {
        if (!readdirSync(join(root, dir, target, "..")).includes(target.split("/").at(-1)!))
          problems.push(`${json.name} exports ${subpath} → ${target}, which does not exist`);
        if (subpath === ".") continue;
        const specifier = `${json.name}${subpath.slice(1)}`;
        const users = imports.filter((file) => !file.rel.startsWith(`${dir}/`) && file.specifiers.includes(specifier));
        if (users.length === 0) problems.push(`${specifier} is exported but no other workspace imports it`);
        if (/test-support/.test(subpath)) {
          for (const user of users.filter((file) => !isTestCode(file.path)))
            problems.push(`${specifier} is test support, imported by production file ${user.rel}`);
        }
        if (!architecture.includes(`\`${specifier}\``)) problems.push(`${specifier} is not named in ARCHITECTURE.md`);
      }
    }
    expect(problems).toEqual([]);
  });
});
