import { parseArgs } from "node:util";
import { openSlideAt, writeDicomSeries } from "@pathx/wsi";
import { createProgressLine } from "./progress";
import { UsageError } from "./usage-error";

/** `pathx dicom SLIDE --out DIR`: the slide as a DICOM WSI series, ready to send to a PACS. */
export async function runDicomCommand(args: string[], io: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream }): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      out: { type: "string", short: "o" },
      "patient-pseudonym": { type: "string" },
      "include-label": { type: "boolean" },
      quality: { type: "string" },
      mpp: { type: "string" },
      "no-passthrough": { type: "boolean" },
    },
  });
  if (positionals.length !== 1) throw new UsageError("pathx dicom takes exactly one slide file.");
  if (!values.out) throw new UsageError("pathx dicom needs --out DIR.");
  const quality = values.quality === undefined ? 90 : Number(values.quality);
  if (!/^\d+$/.test(values.quality ?? "90") || quality < 1 || quality > 100)
    throw new UsageError(`--quality takes a whole number from 1 to 100 (got "${values.quality}").`);
  const mpp = values.mpp === undefined ? undefined : Number(values.mpp);
  if (mpp !== undefined && !(mpp > 0 && mpp < 1000)) throw new UsageError(`--mpp takes microns per pixel, e.g. 0.25 (got "${values.mpp}").`);
  const slide = await openSlideAt(positionals[0]!);
  const progress = createProgressLine(io.stderr, `writing DICOM of ${slide.metadata.name}`, "frames");
  try {
    const result = await writeDicomSeries(slide, values.out, {
      patientPseudonym: values["patient-pseudonym"],
      includeLabel: values["include-label"] ?? false,
      passthrough: !values["no-passthrough"],
      quality,
      mpp,
      onProgress: (written, total) => progress.update(written, total),
    });
    progress.done();
    io.stdout.write(
      `${result.files.length} DICOM instances written to ${values.out} (${result.framesPassedThrough} frames passed through, ${result.framesEncoded} re-encoded); series ${result.seriesUid}\n`,
    );
  } finally {
    progress.done();
    await slide.close();
  }
}
