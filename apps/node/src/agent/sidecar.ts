import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { z } from "zod";
import type { SlideMeta } from "./index-record";
import { pseudonymise } from "./pseudonym";

/** The sidecar `<slide>.json` that says which case a slide file belongs to. */
const sidecar = z.object({
  case: z.string().min(1),
  block: z.string().default(""),
  stain: z.string().default(""),
  specimen: z.string().default(""),
  patient: z.string().optional(),
});

export const SLIDE_FILE = /\.(svs|tif|tiff|ndpi|dcm|mrxs|vms)$/i;

export const sidecarPathOf = (slidePath: string) => `${slidePath.replace(SLIDE_FILE, "")}.json`;

export type SidecarResult = { kind: "missing" } | { kind: "invalid"; reason: string } | { kind: "ok"; meta: SlideMeta };

/**
 * A slide's case metadata from its sidecar, with the patient id already turned into its
 * pseudonym: the id itself goes no further than this function.
 */
export async function readSidecar(slidePath: string, pseudonymKey: string | undefined, options: { blockingReads?: boolean } = {}): Promise<SidecarResult> {
  const text = options.blockingReads ? readTextSync(sidecarPathOf(slidePath)) : await readFile(sidecarPathOf(slidePath), "utf8").catch(() => undefined);
  if (text === undefined) return { kind: "missing" };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: "invalid", reason: "sidecar is not valid JSON" };
  }
  const parsed = sidecar.safeParse(json);
  if (!parsed.success)
    return { kind: "invalid", reason: `sidecar is invalid (${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")})` };
  const m = parsed.data;
  if (m.patient && !pseudonymKey) return { kind: "invalid", reason: "has a patient id but PATHX_PSEUDONYM_KEY is not set" };
  return {
    kind: "ok",
    meta: {
      accessionNumber: m.case,
      block: m.block,
      stain: m.stain,
      specimen: m.specimen,
      patientPseudonym: m.patient ? pseudonymise(m.patient, pseudonymKey!) : undefined,
    },
  };
}

/** A worker thread reading a backlog blocks on its own small reads (see openBlockingFileSource). */
function readTextSync(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
