import { readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// ARCHITECTURE.md's parts table says which of our packages each part may import; this reads
// every non-test source file of each part and fails on an import the table does not allow.
const repo = join(import.meta.dirname, "..");
const table = readFileSync(join(repo, "ARCHITECTURE.md"), "utf8")
  .split("\n")
  .filter((line) => /^\| `[^`]+` \|/.test(line))
  .map((line) => {
    const cells = line.split(" | ");
    const part = (/`([^`]+)`/.exec(cells[0]!)?.[1] ?? "").replace(/\/$/, "");
    return { part, mayImport: cells.at(-1)!.replace(/\|\s*$/, "") };
  });

const workspaces = ["apps", "packages"].flatMap((dir) => readdirSync(join(repo, dir)).map((name) => `${dir}/${name}`));
const nameOf = (workspace: string) => JSON.parse(readFileSync(join(repo, workspace, "package.json"), "utf8")).name as string;
const names = new Map(workspaces.map((w) => [nameOf(w), w]));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (entry === "node_modules" || entry === ".next" || entry.startsWith(".")) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    const isSource = /\.(ts|tsx|mts|cjs|mjs|js)$/.test(entry) && !/\.d\.ts$/.test(entry);
    const isTest = /\.(test|spec)\.tsx?$/.test(entry) || /test-support/.test(entry) || /[\\/](test-support|fixtures)[\\/]/.test(path);
    return isSource && !isTest ? [path] : [];
  });
}

/** Whether the table's "may import" text allows `target` (named `@pathx/x`, `x`, or "all packages"); text after "Never" forbids. */
function allows(mayImport: string, target: string): boolean {
  const [allowed] = mayImport.split(/\bNever\b|\*\*Never\*\*/);
  const short = target.replace("@pathx/", "");
  if (target.startsWith("@pathx/") && names.get(target)?.startsWith("packages/") && /\ball packages\b/.test(allowed!)) return true;
  return new RegExp(`(^|[^\\w-])(${target.replace("/", "\\/")}|${short})([^\\w-]|$)`).test(allowed!);
}

describe("ARCHITECTURE.md's may-import table matches the code", () => {
  it("has a row for every app and package", () => {
    const parts = new Set(table.map((row) => row.part));
    expect(workspaces.filter((w) => !parts.has(w))).toEqual([]);
  });

  for (const workspace of workspaces) {
    it(`${workspace} imports only what its row allows`, () => {
      const row = table.find((r) => r.part === workspace);
      if (!row) return; // reported by the test above
      const own = nameOf(workspace);
      const wrong = new Set<string>();
      for (const file of sourceFiles(join(repo, workspace))) {
        const text = readFileSync(file, "utf8");
        for (const match of text.matchAll(/(?:from\s+|import\s*\(\s*|require\(\s*)["'](@pathx\/[a-z-]+)/g)) {
          const target = match[1]!;
          if (target !== own && !allows(row.mayImport, target)) wrong.add(`${relative(repo, file)} → ${target}`);
        }
      }
      expect([...wrong]).toEqual([]);
    });
  }

  it("reads the table the way it is meant", () => {
    expect(allows("db, storage, wsi. Never next or react.", "@pathx/wsi")).toBe(true);
    expect(allows("node built-ins. **Never** db, storage.", "@pathx/db")).toBe(false);
    expect(allows("`@pathx/wsi`, `@pathx/audit`. Never hub, api or db code.", "@pathx/api")).toBe(false);
    expect(allows("`@pathx/wsi`, `@pathx/audit`.", "@pathx/audit")).toBe(true);
  });
});
