import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

// Static checks of the repository's Dockerfile (Docker itself is not needed): the base image is
// pinned, the final stage carries production dependencies only and runs as a non-root user
// with a health check, and every file its entry commands (and terraform's task commands) name
// exists in the repository. Each returns the problems found, [] when there are none.

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface Stage {
  /** The image or earlier stage it starts FROM, after ARG defaults are substituted. */
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Dockerfile {
  args: Map<string, string>;
  stages: Stage[];
}

/** Instructions with line continuations joined and comments dropped, split into stages. */
export function parseDockerfile(text: string): Dockerfile {
  const instructions: Instruction[] = [];
  let pending = "";
  let startLine = 0;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (!pending && (line === "" || line.startsWith("#"))) return;
    if (pending && line.startsWith("#")) return; // comments inside a continued instruction
    if (!pending) startLine = index + 1;
    pending += ` ${line.endsWith("\\") ? line.slice(0, -1) : line}`;
    if (line.endsWith("\\")) return;
    const [keyword = "", ...rest] = pending.trim().split(/\s+/);
    instructions.push({ keyword: keyword.toUpperCase(), args: rest.join(" "), line: startLine });
    pending = "";
  });
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const substitute = (value: string) =>
    value.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => args.get((a ?? b)!) ?? whole);
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const words = instruction.args.split(/\s+/).filter((word) => !word.startsWith("--"));
      stages.push({ from: substitute(words[0] ?? ""), name: words[1]?.toUpperCase() === "AS" ? words[2] : undefined, instructions: [] });
    } else if (instruction.keyword === "ARG" && stages.length === 0) {
      const [name = "", value = ""] = instruction.args.split("=");
      args.set(name.trim(), value.trim());
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The words of an exec-form (JSON array) or shell-form command. */
function commandWords(args: string): string[] {
  const text = args.trim();
  if (text.startsWith("[")) return JSON.parse(text) as string[];
  return text.split(/\s+/);
}

const installs = (run: string) => /\bnpm\s+(ci|install|i)\b/.test(run);
const productionOnly = (run: string) => /--omit[= ]dev\b|--production\b|--only[= ]prod/.test(run);

export function checkDockerfile(file: Dockerfile, repoRoot: string): string[] {
  const problems: string[] = [];
  const names = new Set(file.stages.map((stage) => stage.name).filter(Boolean));
  const final = file.stages.at(-1);
  if (!final) return ["no FROM: the Dockerfile has no stage"];

  for (const stage of file.stages) {
    if (names.has(stage.from)) continue;
    // An exact release (node:20.20.2-…) or a digest: a rebuild cannot silently move to another Node.
    if (!/@sha256:[0-9a-f]{64}$/.test(stage.from) && !/^[\w./-]+:\d+\.\d+\.\d+[\w.-]*$/.test(stage.from))
      problems.push(`base image ${stage.from} is not pinned to an exact version or digest`);
  }

  // Production dependencies only: node_modules in the final stage come from stages whose every
  // npm install omits dev dependencies, and the final stage installs none with them either.
  const stageByName = new Map(file.stages.filter((stage) => stage.name).map((stage) => [stage.name!, stage]));
  const withDev = (stage: Stage) => stage.instructions.some((i) => i.keyword === "RUN" && installs(i.args) && !productionOnly(i.args));
  const lineage = (stage: Stage): Stage[] => {
    const parent = stageByName.get(stage.from);
    return parent ? [stage, ...lineage(parent)] : [stage];
  };
  for (const instruction of final.instructions) {
    if (instruction.keyword === "RUN" && installs(instruction.args) && !productionOnly(instruction.args))
      problems.push(`line ${instruction.line}: the final stage installs dev dependencies`);
    // A build output (apps/hub/.next) may come from a stage with dev dependencies; node_modules may not.
    if (instruction.keyword !== "COPY" || !/node_modules/.test(instruction.args)) continue;
    const from = /--from=(\S+)/.exec(instruction.args)?.[1];
    const source = stageByName.get(from ?? "");
    if (!source) problems.push(`line ${instruction.line}: node_modules copied from outside the build (${from ?? "the context"})`);
    else if (lineage(source).some(withDev)) problems.push(`line ${instruction.line}: node_modules copied from stage ${from}, which installed dev dependencies`);
  }
  for (const stage of lineage(final))
    if (stage !== final && withDev(stage)) problems.push(`the final stage is built FROM ${stage.name}, which installed dev dependencies`);

  const users = final.instructions.filter((i) => i.keyword === "USER");
  const user = users.at(-1)?.args.split(":")[0]?.trim();
  if (!user) problems.push("the final stage sets no USER: it would run as root");
  else if (user === "root" || user === "0") problems.push(`the final stage runs as ${user}`);

  const workdir =
    [...lineage(final)]
      .reverse()
      .flatMap((stage) => stage.instructions.filter((i) => i.keyword === "WORKDIR"))
      .at(-1)?.args ?? "/";
  const inRepo = (path: string) => join(repoRoot, path.startsWith(`${workdir}/`) ? path.slice(workdir.length + 1) : path);
  const healthcheck = final.instructions.find((i) => i.keyword === "HEALTHCHECK");
  if (!healthcheck || /^NONE$/i.test(healthcheck.args)) problems.push("the final stage has no HEALTHCHECK");
  else {
    const words = commandWords(healthcheck.args.slice(healthcheck.args.indexOf("CMD") + 3));
    for (const word of words.filter((w) => /\.(m?js|ts|sh)$/.test(w)))
      if (!existsSync(inRepo(word))) problems.push(`HEALTHCHECK runs ${word}, which is not in the repository`);
  }
  const cmd = final.instructions.filter((i) => i.keyword === "CMD" || i.keyword === "ENTRYPOINT").at(-1);
  if (!cmd) problems.push("the final stage has no CMD or ENTRYPOINT");
  else {
    const [program] = commandWords(cmd.args);
    if (program?.includes("/") && !existsSync(inRepo(program))) problems.push(`the entry command ${program} is not in the repository`);
  }
  return problems;
}

/** The services the entry script starts and the repository files each one runs. */
export function readEntryServices(script: string): Map<string, string[]> {
  const services = new Map<string, string[]>();
  const body = script.slice(script.indexOf("case "), script.lastIndexOf("esac"));
  for (const arm of body.split(";;")) {
    const match = /^\s*(?:case[^\n]*\n)?\s*([\w-]+)\)\s*([\s\S]*)$/.exec(arm);
    if (!match) continue;
    const files = [...match[2]!.matchAll(/(?:^|\s)((?:apps|packages|scripts)\/[\w./-]+\.(?:ts|mjs|js|sh))/g)].map((m) => m[1]!);
    services.set(match[1]!, files);
  }
  return services;
}

/** Every service's files exist; the web app's and the services' runners are production dependencies. */
export function checkEntryScript(script: string, repoRoot: string): string[] {
  const problems: string[] = [];
  const services = readEntryServices(script);
  for (const wanted of ["hub", "worker", "tiles", "migrate"]) if (!services.has(wanted)) problems.push(`the entry script starts no ${wanted}`);
  for (const [service, files] of services) {
    for (const file of files) if (!existsSync(join(repoRoot, file))) problems.push(`${service} runs ${file}, which is not in the repository`);
  }
  const dependencies = (dir: string) =>
    (JSON.parse(readFileSync(join(repoRoot, dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> }).dependencies ?? {};
  if (/node_modules\/\.bin\/next\b/.test(script) && !dependencies("apps/hub").next)
    problems.push("the hub runs next, which is not a production dependency of apps/hub");
  if (/node_modules\/\.bin\/tsx\b|\$tsx\b/.test(script)) {
    for (const dir of ["apps/hub", "apps/worker", "apps/tiles"])
      if (!dependencies(dir).tsx) problems.push(`tsx runs the services but is not a production dependency of ${dir}`);
  }
  return problems;
}

/** Terraform's task commands run the image's entry script with a service it knows. */
export function checkTaskCommands(ecsTf: string, script: string, scriptPath: string): string[] {
  const problems: string[] = [];
  const services = readEntryServices(script);
  const commands = [...ecsTf.matchAll(/^\s*command\s*=\s*(\[[^\]\n]*\])/gm)].map((m) => m[1]!);
  if (commands.length === 0) problems.push("ecs.tf gives no task a command");
  for (const command of commands) {
    const words = [...command.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!);
    const [program, service] = words;
    if (program !== `\${local.app_root}/${scriptPath}`) problems.push(`task command ${command} does not run ${scriptPath}`);
    else if (!service || !services.has(service)) problems.push(`task command ${command} names a service the entry script does not start`);
  }
  return problems;
}
