import { createHash, randomUUID } from "node:crypto";

/**
 * A small DICOM Part 10 encoder, explicit VR little endian only: the one dataset encoding the
 * WSI writer needs (frames go in as encapsulated fragments written by the caller).
 */

export type Vr =
  | "AE"
  | "AT"
  | "CS"
  | "DA"
  | "DS"
  | "DT"
  | "FD"
  | "FL"
  | "IS"
  | "LO"
  | "LT"
  | "OB"
  | "PN"
  | "OV"
  | "SH"
  | "SL"
  | "SQ"
  | "ST"
  | "TM"
  | "UI"
  | "UL"
  | "US"
  | "UT";

export interface DicomElement {
  tag: number; // (group << 16) | element
  vr: Vr;
  value: string | string[] | number | number[] | Uint8Array | DicomElement[][];
}

export const TransferSyntax = {
  explicitLittle: "1.2.840.10008.1.2.1",
  jpegBaseline: "1.2.840.10008.1.2.4.50",
  jpeg2000: "1.2.840.10008.1.2.4.91",
} as const;

const LONG_VRS = new Set<Vr>(["OB", "OV", "SQ", "UT"]);
const IMPLEMENTATION_CLASS_UID = "2.25.208403906587356217417930853209734536221";

/**
 * A UID under the 2.25 root (a 128-bit number in decimal): no organisation root needed. Random,
 * or derived from a seed so that the same export of the same source gives the same file.
 */
export function createUid(seed?: string): string {
  const hex = seed === undefined ? randomUUID().replace(/-/g, "") : createHash("sha256").update(seed).digest("hex").slice(0, 32);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

function padText(text: string, vr: Vr): Buffer {
  const bytes = Buffer.from(text, vr === "UI" ? "ascii" : "latin1");
  if (bytes.length % 2 === 0) return bytes;
  return Buffer.concat([bytes, Buffer.from([vr === "UI" ? 0 : 0x20])]);
}

function encodeValue(element: DicomElement): Buffer {
  const { vr, value } = element;
  const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
  switch (vr) {
    case "US": {
      const values = list(value as number | number[]);
      const out = Buffer.alloc(values.length * 2);
      values.forEach((v, i) => {
        out.writeUInt16LE(v, i * 2);
      });
      return out;
    }
    case "SL": {
      const values = list(value as number | number[]);
      const out = Buffer.alloc(values.length * 4);
      values.forEach((v, i) => {
        out.writeInt32LE(v, i * 4);
      });
      return out;
    }
    case "UL": {
      const values = list(value as number | number[]);
      const out = Buffer.alloc(values.length * 4);
      values.forEach((v, i) => {
        out.writeUInt32LE(v, i * 4);
      });
      return out;
    }
    case "FL": {
      const values = list(value as number | number[]);
      const out = Buffer.alloc(values.length * 4);
      values.forEach((v, i) => {
        out.writeFloatLE(v, i * 4);
      });
      return out;
    }
    case "FD": {
      const values = list(value as number | number[]);
      const out = Buffer.alloc(values.length * 8);
      values.forEach((v, i) => {
        out.writeDoubleLE(v, i * 8);
      });
      return out;
    }
    case "AT": {
      const values = list(value as number | number[]);
      const out = Buffer.alloc(values.length * 4);
      values.forEach((v, i) => {
        out.writeUInt16LE(v >>> 16, i * 4);
        out.writeUInt16LE(v & 0xffff, i * 4 + 2);
      });
      return out;
    }
    case "OV":
    case "OB": {
      const bytes = Buffer.from(value as Uint8Array);
      return bytes.length % 2 ? Buffer.concat([bytes, Buffer.alloc(1)]) : bytes;
    }
    case "SQ":
      return Buffer.concat((value as DicomElement[][]).map(encodeItem));
    default: {
      const values = list(value as string | string[] | number).map(String);
      return padText(values.join("\\"), vr);
    }
  }
}

/** An item of defined length holding a dataset. */
function encodeItem(elements: DicomElement[]): Buffer {
  const body = encodeDataset(elements);
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0xfffe, 0);
  header.writeUInt16LE(0xe000, 2);
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

/** The header of one element; `length` 0xffffffff for undefined length (pixel data). */
export function encodeElementHeader(tag: number, vr: Vr, length: number): Buffer {
  const long = LONG_VRS.has(vr);
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(tag >>> 16, 0);
  header.writeUInt16LE(tag & 0xffff, 2);
  header.write(vr, 4, "ascii");
  if (long) header.writeUInt32LE(length, 8);
  else header.writeUInt16LE(length, 6);
  return header;
}

export function encodeElement(element: DicomElement): Buffer {
  const value = encodeValue(element);
  if (!LONG_VRS.has(element.vr) && value.length > 0xffff) {
    throw new Error(`DICOM element ${element.tag.toString(16)} is too long for VR ${element.vr}`);
  }
  return Buffer.concat([encodeElementHeader(element.tag, element.vr, value.length), value]);
}

/** Elements in ascending tag order, as Part 5 requires. */
export function encodeDataset(elements: DicomElement[]): Buffer {
  const sorted = [...elements].sort((a, b) => a.tag - b.tag);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.tag === sorted[i - 1]!.tag) throw new Error(`DICOM element ${sorted[i]!.tag.toString(16)} given twice`);
  }
  return Buffer.concat(sorted.map(encodeElement));
}

/** Preamble, "DICM" and the file meta information group. */
export function encodeFileMeta(sopClassUid: string, sopInstanceUid: string, transferSyntaxUid: string): Buffer {
  const group = encodeDataset([
    { tag: 0x00020001, vr: "OB", value: Uint8Array.from([0, 1]) },
    { tag: 0x00020002, vr: "UI", value: sopClassUid },
    { tag: 0x00020003, vr: "UI", value: sopInstanceUid },
    { tag: 0x00020010, vr: "UI", value: transferSyntaxUid },
    { tag: 0x00020012, vr: "UI", value: IMPLEMENTATION_CLASS_UID },
    { tag: 0x00020013, vr: "SH", value: "PATHX_WSI_1" },
  ]);
  const length = encodeElement({ tag: 0x00020000, vr: "UL", value: group.length });
  return Buffer.concat([Buffer.alloc(128), Buffer.from("DICM", "ascii"), length, group]);
}

/** An item header (FFFE,E000) of a given length: offset table or one fragment. */
export function encodeItemHeader(length: number): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0xfffe, 0);
  header.writeUInt16LE(0xe000, 2);
  header.writeUInt32LE(length, 4);
  return header;
}

/** The sequence delimitation item that closes encapsulated pixel data. */
export function encodeSequenceDelimiter(): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt16LE(0xfffe, 0);
  out.writeUInt16LE(0xe0dd, 2);
  return out;
}
