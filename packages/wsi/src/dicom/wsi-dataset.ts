import type { DicomElement, Vr } from "./part10-encoder";
import { srgbIccProfile } from "./srgb-profile";

/** The attributes of a VL Whole Slide Microscopy Image instance (PS3.3 A.32.8) the writer fills. */

export const WSI_SOP_CLASS_UID = "1.2.840.10008.5.1.4.1.1.77.1.6";
export const COMPRESSION_RATIO_PLACEHOLDER = " ".repeat(16);

/** Identity shared by every instance of one exported slide. */
export interface SeriesIdentity {
  studyUid: string;
  seriesUid: string;
  frameOfReferenceUid: string;
  pyramidUid: string;
  dimensionOrganizationUid: string;
  specimenUid: string;
  /** The patient's pseudonym (PatientID) and its scheme (IssuerOfPatientID); empty when not given. */
  patientId: string;
  patientIdIssuer: string;
  containerId: string;
  accessionNumber: string;
  manufacturer: string;
  /** YYYYMMDD and HHMMSS of the export. */
  date: string;
  time: string;
}

export interface InstanceGeometry {
  kind: "VOLUME" | "LABEL" | "OVERVIEW";
  original: boolean;
  instanceNumber: number;
  sopInstanceUid: string;
  totalWidth: number;
  totalHeight: number;
  tileWidth: number;
  tileHeight: number;
  frames: number;
  photometric: string;
  lossy: boolean;
  /** Lossy method: JPEG (default) or JPEG 2000. */
  lossyMethod?: "ISO_10918_1" | "ISO_15444_1";
  /** Millimetres per pixel (column, row) of this image. */
  spacingMm: { x: number; y: number };
  /** Level-0 size in mm, for the imaged volume. */
  imagedMm?: { width: number; height: number };
  /** Sampling of the source as a nominal section thickness (mm): TIFF sources do not record it. */
  sectionThicknessMm: number;
  objectivePower?: number;
  /** TILED_SPARSE: each frame's 1-based column and row in the total pixel matrix. */
  sparsePositions?: Int32Array;
  /** One part of a concatenation (a level split over several instances). */
  concatenation?: { uid: string; sourceUid: string; frameOffset: number; number: number; total: number };
}

const el = (tag: number, vr: Vr, value: DicomElement["value"]): DicomElement => ({ tag, vr, value });
const code = (value: string, scheme: string, meaning: string): DicomElement[] => [
  el(0x00080100, "SH", value),
  el(0x00080102, "SH", scheme),
  el(0x00080104, "LO", meaning),
];

/** A decimal string of at most 16 characters (DS). */
export function formatDs(value: number): string {
  for (let digits = 10; digits > 0; digits--) {
    const text = Number(value.toPrecision(digits)).toString();
    if (text.length <= 16) return text;
  }
  return value.toExponential(6);
}

export function buildWsiDataset(series: SeriesIdentity, image: InstanceGeometry): DicomElement[] {
  const second = image.kind === "VOLUME" ? (image.original ? "NONE" : "RESAMPLED") : "NONE";
  const imageType = [image.original ? "ORIGINAL" : "DERIVED", "PRIMARY", image.kind, second];
  const showsLabel = image.kind !== "VOLUME";
  const elements: DicomElement[] = [
    el(0x00080005, "CS", "ISO_IR 100"),
    el(0x00080008, "CS", imageType),
    el(0x00080016, "UI", WSI_SOP_CLASS_UID),
    el(0x00080018, "UI", image.sopInstanceUid),
    el(0x00080019, "UI", series.pyramidUid),
    el(0x00080020, "DA", series.date),
    el(0x00080023, "DA", series.date),
    el(0x0008002a, "DT", `${series.date}${series.time}`),
    el(0x00080030, "TM", series.time),
    el(0x00080033, "TM", series.time),
    el(0x00080050, "SH", series.accessionNumber),
    el(0x00080060, "CS", "SM"),
    el(0x00080070, "LO", series.manufacturer),
    el(0x00080090, "PN", ""),
    el(0x00081090, "LO", "pathx"),
    el(0x00089206, "CS", "VOLUME"),
    el(0x00100010, "PN", ""), // the pseudonym is no person name: PatientID carries it
    el(0x00100020, "LO", series.patientId),
    ...(series.patientIdIssuer ? [el(0x00100021, "LO", series.patientIdIssuer)] : []),
    el(0x00100030, "DA", ""),
    el(0x00100040, "CS", ""),
    el(0x00181000, "LO", "UNKNOWN"),
    el(0x00181020, "LO", "pathx 0.1"),
    el(0x0020000d, "UI", series.studyUid),
    el(0x0020000e, "UI", series.seriesUid),
    el(0x00200010, "SH", series.accessionNumber || series.containerId.slice(0, 16)),
    el(0x00200011, "IS", 1),
    el(0x00200013, "IS", image.instanceNumber),
    el(0x00200052, "UI", series.frameOfReferenceUid),
    el(0x00201040, "LO", "SLIDE_CORNER"),
    el(0x00209221, "SQ", [[el(0x00209164, "UI", series.dimensionOrganizationUid)]]),
    el(0x00209222, "SQ", [
      [
        el(0x00209164, "UI", series.dimensionOrganizationUid),
        el(0x00209165, "AT", 0x0048021f),
        el(0x00209167, "AT", 0x0048021a),
        el(0x00209421, "LO", "Row Position"),
      ],
      [
        el(0x00209164, "UI", series.dimensionOrganizationUid),
        el(0x00209165, "AT", 0x0048021e),
        el(0x00209167, "AT", 0x0048021a),
        el(0x00209421, "LO", "Column Position"),
      ],
    ]),
    el(0x00209311, "CS", image.sparsePositions ? "TILED_SPARSE" : "TILED_FULL"),
    el(0x00280002, "US", 3),
    el(0x00280004, "CS", image.photometric),
    el(0x00280006, "US", 0),
    el(0x00280008, "IS", image.frames),
    el(0x00280010, "US", image.tileHeight),
    el(0x00280011, "US", image.tileWidth),
    el(0x00280100, "US", 8),
    el(0x00280101, "US", 8),
    el(0x00280102, "US", 7),
    el(0x00280103, "US", 0),
    el(0x00280301, "CS", showsLabel ? "YES" : "NO"),
    el(0x00280302, "CS", showsLabel ? "YES" : "NO"),
    el(0x00282110, "CS", image.lossy ? "01" : "00"),
    // The ratio is known once every frame is written: a 16-character placeholder patched in place.
    ...(image.lossy ? [el(0x00282112, "DS", COMPRESSION_RATIO_PLACEHOLDER), el(0x00282114, "CS", image.lossyMethod ?? "ISO_10918_1")] : []),
    el(0x00400512, "LO", series.containerId),
    el(0x00400513, "SQ", []),
    el(0x00400518, "SQ", [code("433466003", "SCT", "Microscope slide")]),
    el(0x00400555, "SQ", []),
    el(0x00400560, "SQ", [
      [el(0x00400551, "LO", series.containerId), el(0x00400554, "UI", series.specimenUid), el(0x00400562, "SQ", []), el(0x00400610, "SQ", [])],
    ]),
    el(0x00480006, "UL", image.totalWidth),
    el(0x00480007, "UL", image.totalHeight),
    el(0x00480008, "SQ", [[el(0x0040072a, "DS", 0), el(0x0040073a, "DS", 0)]]),
    el(0x00480010, "CS", showsLabel ? "YES" : "NO"),
    el(0x00480011, "CS", "AUTO"),
    el(0x00480012, "CS", "NO"),
    el(0x00480102, "DS", [0, -1, 0, -1, 0, 0]),
    el(0x00480105, "SQ", [
      [
        el(0x00220016, "SQ", [code("111744", "DCM", "Brightfield illumination")]),
        el(0x00282000, "OB", srgbIccProfile()),
        el(0x00480106, "SH", "1"),
        el(0x00480108, "SQ", [code("414298005", "SCT", "Full Spectrum")]),
        ...(image.objectivePower ? [el(0x00480112, "DS", formatDs(image.objectivePower))] : []),
      ],
    ]),
    el(0x00480302, "UL", 1),
    el(0x00480303, "UL", 1),
    el(0x52009229, "SQ", [sharedFunctionalGroups(image, imageType)]),
  ];
  if (image.imagedMm) {
    elements.push(
      el(0x00480001, "FL", image.imagedMm.width),
      el(0x00480002, "FL", image.imagedMm.height),
      el(0x00480003, "FL", image.sectionThicknessMm * 1000),
    );
  }
  if (image.sparsePositions) elements.push(el(0x52009230, "SQ", perFramePositions(image.sparsePositions, image.spacingMm)));
  if (image.concatenation) {
    const c = image.concatenation;
    elements.push(
      el(0x00200242, "UI", c.sourceUid),
      el(0x00209161, "UI", c.uid),
      el(0x00209162, "US", c.number),
      el(0x00209163, "US", c.total),
      el(0x00209228, "UL", c.frameOffset),
    );
  }
  if (image.kind === "LABEL") elements.push(el(0x22000002, "UT", ""), el(0x22000005, "LT", ""));
  return elements;
}

/** Plane Position (Slide) of each frame: pixel-matrix position and slide coordinates (mm). */
function perFramePositions(positions: Int32Array, spacing: { x: number; y: number }): DicomElement[][] {
  const items: DicomElement[][] = [];
  for (let i = 0; i < positions.length; i += 2) {
    const col = positions[i]!;
    const row = positions[i + 1]!;
    items.push([
      el(0x0048021a, "SQ", [
        [
          el(0x0040072a, "DS", formatDs((row - 1) * spacing.y)),
          el(0x0040073a, "DS", formatDs((col - 1) * spacing.x)),
          el(0x0040074a, "DS", 0),
          el(0x0048021e, "SL", col),
          el(0x0048021f, "SL", row),
        ],
      ]),
    ]);
  }
  return items;
}

function sharedFunctionalGroups(image: InstanceGeometry, frameType: string[]): DicomElement[] {
  const groups: DicomElement[] = [el(0x00400710, "SQ", [[el(0x00089007, "CS", frameType)]]), el(0x00480207, "SQ", [[el(0x00480106, "SH", "1")]])];
  groups.push(
    el(0x00289110, "SQ", [
      [el(0x00180050, "DS", formatDs(image.sectionThicknessMm)), el(0x00280030, "DS", [formatDs(image.spacingMm.y), formatDs(image.spacingMm.x)])],
    ]),
  );
  return groups;
}
