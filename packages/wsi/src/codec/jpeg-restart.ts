import { WsiError } from "../errors";

/** What a JPEG's header says, read from SOI up to the end of the first SOS segment. */
export interface JpegHeader {
  /** Bytes SOI … end of SOS: the part every spliced tile starts with. */
  bytes: Uint8Array;
  /** Offset of the SOF marker inside `bytes`. */
  sofAt: number;
  width: number;
  height: number;
  components: number;
  mcuWidth: number;
  mcuHeight: number;
  /** MCUs per restart interval; 0 when the image has no restart markers. */
  restartInterval: number;
}

const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/**
 * Parses the marker segments of a JPEG header. `bytes` must hold the whole header; returns
 * undefined when they end before the scan starts (read more and try again).
 */
export function parseJpegHeader(bytes: Uint8Array, where: string): JpegHeader | undefined {
  if (bytes.length < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8)
    throw new WsiError("CORRUPT", `${where}: the image data does not start with a JPEG header; the file is damaged.`);
  let at = 2;
  let sofAt = -1;
  let width = 0,
    height = 0,
    components = 0,
    maxH = 1,
    maxV = 1,
    scanComponents = 0,
    restartInterval = 0;
  while (true) {
    if (at + 4 > bytes.length) return undefined;
    if (bytes[at] !== 0xff) throw new WsiError("CORRUPT", `${where}: expected a JPEG marker at header byte ${at}; the file is damaged.`);
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++;
      continue;
    } // fill byte
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (length < 2) throw new WsiError("CORRUPT", `${where}: a JPEG header segment has length ${length}; the file is damaged.`);
    if (at + 2 + length > bytes.length) return undefined;
    const body = at + 4;
    if (isSof(marker)) {
      if (marker !== 0xc0 && marker !== 0xc1)
        throw new WsiError("UNSUPPORTED_COMPRESSION", `${where}: uses a JPEG process (SOF${marker - 0xc0}) other than baseline; not supported.`);
      sofAt = at;
      height = (bytes[body + 1]! << 8) | bytes[body + 2]!;
      width = (bytes[body + 3]! << 8) | bytes[body + 4]!;
      components = bytes[body + 5]!;
      for (let c = 0; c < components; c++) {
        const factors = bytes[body + 6 + c * 3 + 1]!;
        maxH = Math.max(maxH, factors >> 4);
        maxV = Math.max(maxV, factors & 15);
      }
    } else if (marker === 0xdd) {
      restartInterval = (bytes[body]! << 8) | bytes[body + 1]!;
    } else if (marker === 0xda) {
      if (sofAt < 0) throw new WsiError("CORRUPT", `${where}: a JPEG scan starts before its frame header; the file is damaged.`);
      scanComponents = bytes[body]!;
      const end = at + 2 + length;
      const single = scanComponents === 1;
      return {
        bytes: bytes.subarray(0, end),
        sofAt,
        width,
        height,
        components,
        mcuWidth: single ? 8 : maxH * 8,
        mcuHeight: single ? 8 : maxV * 8,
        restartInterval,
      };
    } else if (marker === 0xd9) {
      throw new WsiError("CORRUPT", `${where}: the JPEG ends before its scan; the file is damaged.`);
    }
    at += 2 + length;
  }
}

/** A copy of the header with the frame's size set (tiles of a level, or a level whose SOF says 0). */
export function withFrameSize(header: JpegHeader, width: number, height: number): Buffer {
  const out = Buffer.from(header.bytes);
  out.writeUInt16BE(height, header.sofAt + 5);
  out.writeUInt16BE(width, header.sofAt + 7);
  return out;
}

/**
 * Builds a standalone JPEG from a header and restart-interval segments, each segment ending
 * in its original 2-byte marker (RST or EOI). Markers are renumbered RST0…7 in the new order
 * and the last one becomes EOI, so a decoder sees one consistent image of width × height.
 * Checks that every segment ends in the marker expected there (RSTn of its interval number,
 * EOI for the image's last): offsets from the file are not trusted.
 */
export function spliceRestartIntervals(
  header: JpegHeader,
  width: number,
  height: number,
  segments: { bytes: Uint8Array; ends: { at: number; marker: number }[] }[],
  where: string,
): Buffer {
  const head = withFrameSize(header, width, height);
  const total = head.length + segments.reduce((n, s) => n + s.bytes.length, 0);
  const out = Buffer.allocUnsafe(total);
  head.copy(out, 0);
  let at = head.length;
  let index = 0;
  const count = segments.reduce((n, s) => n + s.ends.length, 0);
  for (const segment of segments) {
    out.set(segment.bytes, at);
    for (const end of segment.ends) {
      const markerAt = at + end.at - 2;
      if (out[markerAt] !== 0xff || out[markerAt + 1] !== end.marker) {
        throw new WsiError("CORRUPT", `${where}: a restart interval does not end in a restart marker; the marker positions in the file are wrong.`);
      }
      out[markerAt + 1] = index === count - 1 ? 0xd9 : 0xd0 + (index % 8);
      index++;
    }
    at += segment.bytes.length;
  }
  return out;
}

/**
 * Finds restart markers (FF D0–D7) in entropy-coded data: inside a scan every data 0xFF is
 * followed by a stuffed 0x00, so the search is exact. Returns positions just after each marker.
 */
export function findRestartMarkers(bytes: Uint8Array, base: number, into: number[]): void {
  let at = bytes.indexOf(0xff);
  while (at >= 0 && at + 1 < bytes.length) {
    const next = bytes[at + 1]!;
    if (next >= 0xd0 && next <= 0xd7) into.push(base + at + 2);
    at = bytes.indexOf(0xff, at + 1);
  }
}
