import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkDockerfile, checkEntryScript, checkTaskCommands, parseDockerfile, readEntryServices } from "./image-checks";

// The container image is checked without Docker (not available where the tests run): the
// Dockerfile, its entry script and terraform's task commands are read as text.
const root = join(import.meta.dirname, "..");
const dockerfileText = readFileSync(join(root, "Dockerfile"), "utf8");
const entryPath = "scripts/container/start.sh";
const entryScript = readFileSync(join(root, entryPath), "utf8");
const ecsTf = readFileSync(join(import.meta.dirname, "ecs.tf"), "utf8");
const variablesTf = readFileSync(join(import.meta.dirname, "variables.tf"), "utf8");
const variableDefault = (name: string) => new RegExp(`variable "${name}" \\{[^}]*?default\\s*=\\s*"([^"]+)"`, "s").exec(variablesTf)?.[1];

describe("the Dockerfile as written", () => {
  const file = parseDockerfile(dockerfileText);

  it("pins the base image, installs production dependencies only in the final stage, runs as non-root with a health check, and its entry files exist", () => {
    expect(checkDockerfile(file, root)).toEqual([]);
    expect(file.stages.length).toBeGreaterThanOrEqual(3); // multi-stage: build, production dependencies, runtime
    expect(file.stages[0]!.from).toMatch(/^node:20\.\d+\.\d+-bookworm-slim/);
  });

  it("builds the hub, the worker and the tile service, and their entry commands exist", () => {
    expect(checkEntryScript(entryScript, root)).toEqual([]);
    expect(readEntryServices(entryScript).get("worker")).toEqual(["apps/worker/src/main.ts"]);
    expect(readEntryServices(entryScript).get("tiles")).toEqual(["apps/tiles/src/main.ts"]);
    const prodInstall = file.stages.flatMap((stage) => stage.instructions).find((i) => i.keyword === "RUN" && i.args.includes("--omit=dev"));
    for (const app of ["apps/hub", "apps/worker", "apps/tiles"]) expect(prodInstall?.args).toContain(`--workspace=${app}`);
  });

  it("is what terraform's ECS tasks run: the entry script per service, at image_app_root, with the RDS CA bundle where the tasks look for it", () => {
    expect(checkTaskCommands(ecsTf, entryScript, entryPath)).toEqual([]);
    const final = file.stages.at(-1)!;
    const workdirs = file.stages.flatMap((stage) => stage.instructions).filter((i) => i.keyword === "WORKDIR");
    expect(workdirs.at(-1)?.args).toBe(variableDefault("image_app_root"));
    const bundle = variableDefault("rds_ca_bundle_path")!;
    expect(final.instructions.some((i) => i.keyword === "ADD" && i.args.endsWith(` ${bundle}`))).toBe(true);
  });
});

// Each check must find the fault it is for.
const good = `ARG NODE_IMAGE=node:20.20.2-bookworm-slim
FROM \${NODE_IMAGE} AS base
WORKDIR /app
FROM base AS deps
RUN npm ci --omit=dev
FROM base AS build
RUN npm ci \\
      --no-audit
RUN npx next build
FROM base AS runtime
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/apps/hub/.next ./apps/hub/.next
USER node
HEALTHCHECK CMD ["node", "/app/scripts/container/healthcheck.mjs"]
CMD ["/app/scripts/container/start.sh"]
`;
const faults = (text: string) => checkDockerfile(parseDockerfile(text), root);

describe("the image checks", () => {
  it("pass the minimal good Dockerfile", () => {
    expect(faults(good)).toEqual([]);
  });

  it("find an unpinned base image", () => {
    expect(faults(good.replace("node:20.20.2-bookworm-slim", "node:20-bookworm-slim"))).toEqual([expect.stringMatching(/not pinned/)]);
    expect(faults(good.replace("node:20.20.2-bookworm-slim", "node:latest"))).toEqual([expect.stringMatching(/not pinned/)]);
    expect(faults(good.replace("node:20.20.2-bookworm-slim", `node@sha256:${"a".repeat(64)}`))).toEqual([]);
  });

  it("find dev dependencies in the final stage", () => {
    expect(faults(good.replace("COPY --from=deps /app/node_modules", "COPY --from=build /app/node_modules"))).toEqual([
      expect.stringMatching(/stage build, which installed dev/),
    ]);
    expect(faults(good.replace("USER node", "RUN npm ci\nUSER node"))).toEqual([expect.stringMatching(/installs dev dependencies/)]);
    expect(faults(good.replace("FROM base AS runtime", "FROM build AS runtime"))).toEqual([expect.stringMatching(/built FROM build/)]);
  });

  it("find a final stage that runs as root or has no health check", () => {
    expect(faults(good.replace("USER node", "USER root"))).toEqual([expect.stringMatching(/runs as root/)]);
    expect(faults(good.replace("USER node\n", ""))).toEqual([expect.stringMatching(/no USER/)]);
    expect(faults(good.replace(/HEALTHCHECK.*\n/, ""))).toEqual([expect.stringMatching(/no HEALTHCHECK/)]);
  });

  it("find entry commands whose files are not in the repository", () => {
    expect(faults(good.replace("start.sh", "begin.sh"))).toEqual([expect.stringMatching(/begin\.sh is not in the repository/)]);
    expect(checkEntryScript(entryScript.replace("apps/worker/src/main.ts", "apps/hub/src/worker/main.ts"), root)).toEqual([
      expect.stringMatching(/worker runs apps\/hub\/src\/worker\/main\.ts, which is not/),
    ]);
    expect(checkTaskCommands(ecsTf.replace('start.sh", "worker"]', 'start.sh", "tiler"]'), entryScript, entryPath)).toEqual([
      expect.stringMatching(/names a service the entry script does not start/),
    ]);
    expect(
      checkTaskCommands(
        ecsTf
          .replace('start.sh", "worker"]', 'start.sh", "worker", "x"]')
          .replace(`\${local.app_root}/scripts/container/start.sh", "tiles"`, `\${local.app_root}/node_modules/.bin/tsx", "apps/tiles/src/main.ts"`),
        entryScript,
        entryPath,
      ),
    ).toEqual([expect.stringMatching(/does not run scripts\/container\/start\.sh/)]);
  });
});
