import { spawn } from "node:child_process";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";

/** The newest modification time under the given paths (files or folders), skipping build output. */
async function newestChange(paths: string[]): Promise<number> {
  let newest = 0;
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined);
    if (!info) continue;
    if (!info.isDirectory()) newest = Math.max(newest, info.mtimeMs);
    else {
      const entries = await readdir(path);
      // Tests and test support are not part of the web app: changing them needs no new build.
      const children = entries
        .filter((e) => e !== "node_modules" && e !== ".next" && e !== "test-support" && !/\.test\.tsx?$/.test(e))
        .map((e) => join(path, e));
      newest = Math.max(newest, await newestChange(children));
    }
  }
  return newest;
}

/**
 * Builds the web app when there is no build or a source changed since the last one, echoing
 * Next's own progress lines (compiling, collecting, generating pages) as they come.
 */
export async function ensureHubBuild(root: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<"built" | "up to date"> {
  const hub = join(root, "apps/hub");
  const built = (await stat(join(hub, ".next/BUILD_ID")).catch(() => undefined))?.mtimeMs ?? 0;
  const sources = [join(hub, "src"), join(hub, "next.config.ts"), ...(await readdir(join(root, "packages"))).map((p) => join(root, "packages", p, "src"))];
  if (built && (await newestChange(sources)) <= built) return "up to date";
  await new Promise<void>((resolve, reject) => {
    const child = spawn(join(root, "node_modules/.bin/next"), ["build"], {
      cwd: hub,
      // The real secret is read at run time, never baked into the build.
      env: { ...env, AUTH_SECRET: env.AUTH_SECRET ?? "build-only-secret-not-used-at-run-time", NEXT_TELEMETRY_DISABLED: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const lines = output.split("\n");
      output = lines.pop() ?? "";
      for (const line of lines) if (/[✓▲]|Creating|Collecting|Generating|Finalizing|Compiled|error/i.test(line)) log(`build: ${line.trim()}`);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolve() : reject(new Error(`next build failed (exit ${code}); run \`cd apps/hub && npx next build\` to see why`)),
    );
  });
  return "built";
}
