/**
 * A minimal ICC v4 sRGB display profile (matrix/TRC, D50-adapted primaries, the sRGB
 * parametric curve), built from the published constants: DICOM WSI requires an ICC profile in
 * the optical path of colour images, and the frames we write are sRGB as the scanner's TIFF is.
 */
let cached: Uint8Array | undefined;

function s15Fixed16(value: number): number {
  return Math.round(value * 65536) | 0;
}

function xyzTag(x: number, y: number, z: number): Buffer {
  const out = Buffer.alloc(20);
  out.write("XYZ ", 0, "ascii");
  out.writeInt32BE(s15Fixed16(x), 8);
  out.writeInt32BE(s15Fixed16(y), 12);
  out.writeInt32BE(s15Fixed16(z), 16);
  return out;
}

function srgbCurve(): Buffer {
  // parametricCurveType function 3: Y = (aX + b)^g for X >= d, Y = cX below.
  const params = [2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045];
  const out = Buffer.alloc(12 + params.length * 4);
  out.write("para", 0, "ascii");
  out.writeUInt16BE(3, 8);
  params.forEach((p, i) => {
    out.writeInt32BE(s15Fixed16(p), 12 + i * 4);
  });
  return out;
}

function mluc(text: string): Buffer {
  const utf16 = Buffer.from(text, "utf16le").swap16();
  const out = Buffer.alloc(28 + utf16.length);
  out.write("mluc", 0, "ascii");
  out.writeUInt32BE(1, 8); // one record
  out.writeUInt32BE(12, 12); // record size
  out.write("enUS", 16, "ascii");
  out.writeUInt32BE(utf16.length, 20);
  out.writeUInt32BE(28, 24);
  utf16.copy(out, 28);
  return out;
}

export function srgbIccProfile(): Uint8Array {
  if (cached) return cached;
  const curve = srgbCurve();
  const tags: [string, Buffer][] = [
    ["desc", mluc("sRGB (pathx)")],
    ["cprt", mluc("No copyright, use freely")],
    ["wtpt", xyzTag(0.9642, 1.0, 0.8249)],
    ["rXYZ", xyzTag(0.4361, 0.2225, 0.0139)],
    ["gXYZ", xyzTag(0.3851, 0.7169, 0.0971)],
    ["bXYZ", xyzTag(0.1431, 0.0606, 0.7141)],
    ["rTRC", curve],
    ["gTRC", curve],
    ["bTRC", curve],
  ];
  const tableSize = 4 + tags.length * 12;
  const offsets = new Map<Buffer, number>();
  let position = 128 + tableSize;
  const blocks: Buffer[] = [];
  for (const [, data] of tags) {
    if (offsets.has(data)) continue; // the three curves share one block
    offsets.set(data, position);
    const padded = Buffer.concat([data, Buffer.alloc((4 - (data.length % 4)) % 4)]);
    blocks.push(padded);
    position += padded.length;
  }
  const header = Buffer.alloc(128);
  header.writeUInt32BE(position, 0);
  header.writeUInt32BE(0x04300000, 8); // version 4.3
  header.write("mntr", 12, "ascii");
  header.write("RGB ", 16, "ascii");
  header.write("XYZ ", 20, "ascii");
  header.writeUInt16BE(2026, 24);
  header.writeUInt16BE(1, 26);
  header.writeUInt16BE(1, 28);
  header.write("acsp", 36, "ascii");
  header.writeInt32BE(s15Fixed16(0.9642), 68); // PCS illuminant D50
  header.writeInt32BE(s15Fixed16(1.0), 72);
  header.writeInt32BE(s15Fixed16(0.8249), 76);
  const table = Buffer.alloc(tableSize);
  table.writeUInt32BE(tags.length, 0);
  tags.forEach(([signature, data], i) => {
    table.write(signature, 4 + i * 12, "ascii");
    table.writeUInt32BE(offsets.get(data)!, 8 + i * 12);
    table.writeUInt32BE(data.length, 12 + i * 12);
  });
  cached = Buffer.concat([header, table, ...blocks]);
  return cached;
}
