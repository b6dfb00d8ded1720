import { WsiError } from "../errors";

const readable =
  "pathx reads Aperio SVS, Hamamatsu NDPI, OME-TIFF, pyramidal TIFF and DICOM WSI, and on a lab node MRXS, Leica SCN, Ventana BIF, Philips TIFF, Hamamatsu VMS and Sakura SVSlide through OpenSlide";

/** Formats no reader here (nor OpenSlide 3.4) opens, recognised so the answer can name them. */
const known: { test: (head: string, name: string) => boolean; what: string; todo: string }[] = [
  {
    test: (head, name) => /\.i?syntax2?$/i.test(name) || (head.startsWith("<?xml") && head.includes("DPUfsImport")),
    what: "a Philips iSyntax slide",
    todo: "export it from the Philips IMS as TIFF or DICOM and publish that",
  },
  { test: (head) => head.startsWith("ZISRAWFILE"), what: "a Zeiss CZI file", todo: "export it as OME-TIFF (e.g. with QuPath or bfconvert) and publish that" },
  { test: (_h, name) => /\.vsi$/i.test(name), what: "an Olympus VSI slide", todo: "export it as OME-TIFF (e.g. with QuPath or bfconvert) and publish that" },
];

/** One line naming what the file is (when known) and what to do. */
export function describeUnknownFormat(name: string, head: Uint8Array): WsiError {
  const text = Buffer.from(head).toString("latin1");
  const match = known.find((k) => k.test(text, name));
  if (match) return new WsiError("UNSUPPORTED_FORMAT", `${name}: is ${match.what}, which pathx cannot read; ${match.todo}.`);
  return new WsiError("NOT_A_TIFF", `${name}: is not a TIFF-based slide nor another format pathx knows (${readable}).`);
}
