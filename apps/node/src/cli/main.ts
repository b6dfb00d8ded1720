import { availableParallelism } from "node:os";
import { parseArgs } from "node:util";
import { CodedError, ERROR_TABLE } from "@pathx/errors";
import { HubError } from "../agent/hub-client";
import { UsageError } from "./usage-error";

// Each command's modules are imported when it runs: under tsx, loading them all (the slide
// engine, DICOM, the node agent) costs ≈ 0.3 CPU-s of every command's start-up.

const usage = `pathx — telepathology exchange command line

Usage:
  pathx info SLIDE                       print the slide's metadata as JSON
  pathx tile SLIDE --out DIR [options]   write DIR/<name>.dzi and DIR/<name>_files/
  pathx dicom SLIDE --out DIR [--patient-pseudonym P] [--include-label] [--quality Q] [--mpp M] [--no-passthrough]
                                         write the slide as a DICOM WSI series (one TILED_FULL
                                         instance per level; source JPEG tiles copied through);
                                         PatientID is the pseudonym; label and macro only with
                                         --include-label (when the lab's policy shares them)
  pathx node enroll --hub URL --token T [--name NAME]
                                         enrol this lab node with a one-time token from the hub
  pathx node publish SLIDE --case ACC [--block B --stain S --specimen TEXT --patient ID --max-rate MB/s]
                     [--index-only]      upload a slide to the hub (resumable; the patient id
                                         leaves the lab only as a keyed pseudonym); --index-only
                                         sends metadata and a thumbnail, the file only on demand
  pathx node watch DIR [--interval S] [--once] [--index-only] [--max-rate MB/s]
                                         publish new slides of a folder; each needs a sidecar
                                         <name>.json: {"case", "block", "stain", "specimen", "patient"};
                                         also sends the files the hub orders
  pathx node backlog DIR [--batch N] [--threads N] [--concurrency N] [--restart]
                                         register an existing archive (searched recursively,
                                         sidecars as for watch) index-only, in batches; resumes
  pathx node serve [--max-rate MB/s]     send the files the hub orders for index-only slides
  pathx audit pull                       keep the hub's signed checkpoint of this lab's audit
                                         chain as a witness (serve and watch do it at start)
  pathx audit verify                     read this lab's audit chain from the hub and check
                                         every link against the witnesses; exits 1 at the
                                         first broken link

Tile options:
  --tile-size N|source   tile edge in pixels, or the slide's own tile size (default 254)
  --overlap N            pixels shared with neighbouring tiles (default 1)
  --quality Q            JPEG quality 1-100 (default 75)
  --format jpeg|png      tile format (default jpeg)
  --name NAME            pyramid name (default: the slide's file name without extension)
  --no-passthrough       always re-encode, even where source tiles could be copied
  --threads N            worker threads besides the main one (default: cores − 2, at least 0)
`;

function parseInteger(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} takes a whole number (got "${value}").`);
  return Number(value);
}

async function runInfo(args: string[], out: NodeJS.WriteStream): Promise<void> {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 1) throw new UsageError("pathx info takes exactly one slide file.");
  const { openSlideAt } = await import("@pathx/wsi");
  const slide = await openSlideAt(positionals[0]!);
  try {
    out.write(`${JSON.stringify(slide.metadata, null, 2)}\n`);
  } finally {
    await slide.close();
  }
}

async function runTile(args: string[], io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", short: "o" },
      "tile-size": { type: "string" },
      overlap: { type: "string" },
      quality: { type: "string" },
      format: { type: "string" },
      name: { type: "string" },
      "no-passthrough": { type: "boolean" },
      threads: { type: "string" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("pathx tile takes exactly one slide file.");
  if (!values.out) throw new UsageError("pathx tile needs --out DIR.");
  const format = values.format ?? "jpeg";
  if (format !== "jpeg" && format !== "png") throw new UsageError(`--format is jpeg or png (got "${format}").`);
  const tileSize = values["tile-size"] === "source" ? "source" : parseInteger("--tile-size", values["tile-size"], 254);
  const { runTileCommand } = await import("./tile-command");
  await runTileCommand(
    {
      slide: positionals[0]!,
      out: values.out,
      tileSize,
      overlap: parseInteger("--overlap", values.overlap, 1),
      quality: parseInteger("--quality", values.quality, 75),
      format,
      passthrough: !values["no-passthrough"],
      name: values.name,
      // This thread and libuv's pool keep about two cores busy; a worker thread for each core beyond.
      threads: parseInteger("--threads", values.threads, Math.max(0, availableParallelism() - 2)),
    },
    io,
  );
}

/** Runs one command; returns the exit code. Errors print one clear line, never a stack trace. */
export async function runCli(argv: string[], io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "info":
        await runInfo(rest, io.stdout);
        return 0;
      case "tile":
        await runTile(rest, io);
        return 0;
      case "dicom":
        await (await import("./dicom-command")).runDicomCommand(rest, io);
        return 0;
      case "node":
        return (await (await import("../agent/commands")).runNodeCommand(rest, io)) ?? 0;
      case "audit":
        return await (await import("./audit-command")).runAuditCommand(rest, io);
      case undefined:
      case "help":
      case "--help":
      case "-h":
        io.stdout.write(usage);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}".`);
    }
  } catch (error) {
    // The slide engine's WsiError, recognised by its domain without loading the engine.
    if (error instanceof CodedError && error.domain === "wsi") {
      io.stderr.write(`pathx: ${error.message} [${error.code}]\n`);
      return error.exitCode;
    }
    if (error instanceof HubError) {
      io.stderr.write(`pathx: ${error.message}\n`);
      return error.exitCode;
    }
    // Exit codes come from the error table (@pathx/errors): node's USAGE and UNEXPECTED rows.
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`pathx: ${(error as Error).message}\nRun "pathx --help" for usage.\n`);
      return ERROR_TABLE.node.USAGE.exit;
    }
    io.stderr.write(`pathx: unexpected failure: ${error instanceof Error ? error.message : String(error)}\n`);
    return ERROR_TABLE.node.UNEXPECTED.exit;
  }
}
