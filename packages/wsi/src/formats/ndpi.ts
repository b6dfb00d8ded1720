import type { ByteSource } from "../byte-source";
import { decodeJpeg } from "../codec/jpeg";
import { type JpegHeader, findRestartMarkers, parseJpegHeader, spliceRestartIntervals, withFrameSize } from "../codec/jpeg-restart";
import { WsiError } from "../errors";
import { limits } from "../limits";
import { type NdpiDirectory, isNdpi, readNdpiDirectories } from "../tiff/ndpi-directory";
import { Tag } from "../tiff/tags";
import type { AssociatedReader, LevelReader, SlideParts, SourceFormat } from "./level-reader";

/** Tiles are whole restart intervals across and whole MCU rows down, about this many pixels a side. */
const targetTileSide = 512;

interface Strip {
  where: string;
  width: number;
  height: number;
  offset: number;
  byteCount: number;
}

async function readStrip(source: ByteSource, size: number, d: NdpiDirectory): Promise<Strip> {
  const where = `${source.name}: NDPI directory ${d.index}`;
  const width = (await d.number(Tag.ImageWidth)) ?? 0;
  const height = (await d.number(Tag.ImageLength)) ?? 0;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1)
    throw new WsiError("CORRUPT", `${where} has no valid image size (${width} × ${height}).`);
  if (width > limits.maxImageSide || height > limits.maxImageSide) {
    throw new WsiError("TOO_LARGE", `${where} claims ${width} × ${height} pixels, more than the ${limits.maxImageSide} px per side this engine accepts.`);
  }
  const rowsPerStrip = (await d.number(Tag.RowsPerStrip)) ?? height;
  if (rowsPerStrip !== height)
    throw new WsiError("CORRUPT", `${where} has ${rowsPerStrip} rows per strip for an image ${height} high; an NDPI level is one strip.`);
  const compression = (await d.number(Tag.Compression)) ?? 1;
  if (compression !== 7) throw new WsiError("UNSUPPORTED_COMPRESSION", `${where} uses TIFF compression ${compression}; NDPI images are JPEG.`);
  const offset = await d.fileOffset(Tag.StripOffsets);
  const byteCount = (await d.number(Tag.StripByteCounts)) ?? 0;
  if (offset === undefined || byteCount < 4) throw new WsiError("CORRUPT", `${where} has no image data.`);
  if (offset + byteCount > size) {
    throw new WsiError(
      "TRUNCATED",
      `${where} has image data up to byte ${offset + byteCount} but the file ends at byte ${size}; it is truncated (incomplete copy or upload). Copy it again.`,
    );
  }
  return { where, width, height, offset, byteCount };
}

async function readHeader(source: ByteSource, strip: Strip): Promise<JpegHeader> {
  for (const length of [64 * 1024, 1024 * 1024]) {
    const bytes = await source.read(strip.offset, Math.min(length, strip.byteCount));
    const header = parseJpegHeader(bytes, strip.where);
    if (header) {
      if (header.components !== 3)
        throw new WsiError("UNSUPPORTED_FORMAT", `${strip.where}: a ${header.components}-component JPEG; only colour (3-component) NDPI is supported.`);
      // SOF says 0 (or wraps) for sides over 65 535: the TIFF size is the truth then.
      const agrees = (sof: number, tiff: number) => sof === 0 || sof === tiff || tiff > 65_535;
      if (!agrees(header.width, strip.width) || !agrees(header.height, strip.height)) {
        throw new WsiError(
          "CORRUPT",
          `${strip.where}: the JPEG is ${header.width} × ${header.height} but the directory says ${strip.width} × ${strip.height}; the file is damaged.`,
        );
      }
      return header;
    }
    if (length >= strip.byteCount) break;
  }
  throw new WsiError("CORRUPT", `${strip.where}: no JPEG scan found in the first MiB of the image; the file is damaged.`);
}

/** A small level (or the macro) stored as one JPEG without restart markers: decoded whole. */
function wholeJpeg(source: ByteSource, strip: Strip, header: JpegHeader, limit: number) {
  const read = async () => {
    if (strip.width * strip.height > limit) {
      throw new WsiError(
        "TOO_LARGE",
        `${strip.where}: a ${strip.width} × ${strip.height} image without restart markers would have to be decoded whole; refusing.`,
      );
    }
    if (strip.byteCount > limits.maxChunkBytes) throw new WsiError("TOO_LARGE", `${strip.where}: ${strip.byteCount} bytes of JPEG to decode whole; refusing.`);
    const data = await source.read(strip.offset, strip.byteCount);
    return Buffer.concat([withFrameSize(header, strip.width, strip.height), data.subarray(header.bytes.length)]);
  };
  return {
    read,
    decode: async (into?: Buffer) => checkSize(await decodeJpeg(await read(), fits(into, strip.width, strip.height)), strip.width, strip.height, strip.where),
  };
}

const fits = (into: Buffer | undefined, w: number, h: number) => (into && into.length >= w * h * 3 ? into : undefined);

function checkSize<T extends { width: number; height: number }>(image: T, width: number, height: number, where: string): T {
  if (image.width !== width || image.height !== height)
    throw new WsiError("CORRUPT", `${where}: a JPEG decoded to ${image.width} × ${image.height}, ${width} × ${height} expected.`);
  return image;
}

async function restartLevel(source: ByteSource, d: NdpiDirectory, strip: Strip, header: JpegHeader): Promise<LevelReader> {
  const { where, width, height } = strip;
  const ri = header.restartInterval;
  const mcusPerRow = Math.ceil(width / header.mcuWidth);
  if (mcusPerRow % ri !== 0)
    throw new WsiError("UNSUPPORTED_FORMAT", `${where}: restart intervals of ${ri} MCUs do not divide a row of ${mcusPerRow} MCUs; not a layout NDPI writes.`);
  const perRow = mcusPerRow / ri;
  const mcuRows = Math.ceil(height / header.mcuHeight);
  const count = perRow * mcuRows;
  if (count > limits.maxChunksPerImage) throw new WsiError("TOO_LARGE", `${where} would have ${count} restart intervals; refusing.`);
  const intervalWidth = ri * header.mcuWidth;
  const across = Math.max(1, Math.round(targetTileSide / intervalWidth));
  const down = Math.max(1, Math.round(targetTileSide / header.mcuHeight));
  const dataStart = strip.offset + header.bytes.length;
  const dataEnd = strip.offset + strip.byteCount;

  // Interval starts from the file's McuStarts, used only if they are plausible; every read
  // then checks the markers they point at and falls back to a scan of the real markers.
  let starts: Float64Array | undefined;
  if (d.count(Tag.NdpiMcuStarts) === count) {
    const low = await d.numbers(Tag.NdpiMcuStarts);
    const high = d.count(Tag.NdpiMcuStartsHighBytes) === count ? await d.numbers(Tag.NdpiMcuStartsHighBytes) : undefined;
    const candidate = new Float64Array(count + 1);
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      candidate[i] = strip.offset + low[i]! + (high ? high[i]! * 2 ** 32 : 0);
      ok = i === 0 ? candidate[0] === dataStart : candidate[i]! > candidate[i - 1]! && candidate[i]! < dataEnd;
    }
    candidate[count] = dataEnd;
    if (ok) starts = candidate;
  }
  let scanned: Promise<Float64Array> | undefined;
  const scan = () =>
    (scanned ??= (async () => {
      const markers: number[] = [];
      const chunk = 8 * 1024 * 1024;
      for (let at = dataStart; at < dataEnd; at += chunk - 1) {
        findRestartMarkers(await source.read(at, Math.min(chunk, dataEnd - at)), at, markers);
        if (markers.length > count) break;
        if (at + chunk >= dataEnd) break;
      }
      const unique = [...new Set(markers)];
      if (unique.length !== count - 1) {
        throw new WsiError(
          "CORRUPT",
          `${where}: found ${unique.length} restart markers where a ${width} × ${height} image needs ${count - 1}; the image data is damaged.`,
        );
      }
      const found = new Float64Array(count + 1);
      found[0] = dataStart;
      unique.forEach((p, i) => {
        found[i + 1] = p;
      });
      found[count] = dataEnd;
      return found;
    })());

  // A tile needs one read per MCU row. When a second tile of the same tile row is asked for
  // (tiling a whole level), the band's bytes — contiguous in the file — are read once instead.
  const bandAsks = new Map<number, number>();
  const bands = new Map<number, Promise<{ from: number; bytes: Uint8Array }>>();
  const readRange = async (row: number, from: number, to: number) => {
    const band = await bands.get(row);
    if (band && from >= band.from && to <= band.from + band.bytes.length) return band.bytes.subarray(from - band.from, to - band.from);
    return source.read(from, to - from);
  };
  const askBand = (row: number, table: Float64Array, r0: number, r1: number) => {
    const asks = (bandAsks.get(row) ?? 0) + 1;
    bandAsks.set(row, asks);
    const from = table[r0 * perRow]! - (r0 > 0 ? 2 : 0),
      to = table[r1 * perRow]!;
    if (asks !== 2 || bands.has(row) || !(to > from) || to - from > limits.maxChunkBytes) return;
    bands.set(
      row,
      source.read(from, to - from).then((bytes) => ({ from, bytes })),
    );
    if (bands.size > 3) bands.delete(bands.keys().next().value!);
  };

  const tileJpeg = async (col: number, row: number, table: Float64Array) => {
    const c0 = col * across,
      c1 = Math.min(c0 + across, perRow);
    const r0 = row * down,
      r1 = Math.min(r0 + down, mcuRows);
    askBand(row, table, r0, r1);
    const tileWidth = Math.min((c1 - c0) * intervalWidth, width - c0 * intervalWidth);
    const tileHeight = Math.min((r1 - r0) * header.mcuHeight, height - r0 * header.mcuHeight);
    const segments = await Promise.all(
      Array.from({ length: r1 - r0 }, async (_, i) => {
        const first = (r0 + i) * perRow + c0;
        const last = (r0 + i) * perRow + c1;
        const from = table[first]!,
          to = table[last]!;
        if (!(to > from) || to - from > limits.maxChunkBytes)
          throw new WsiError("CORRUPT", `${where}: restart interval ${first} has an impossible extent; the marker positions are wrong.`);
        // The interval before ends in a marker just before `from`: read it too, so a start is checked as well as an end.
        const lead = first > 0 ? 2 : 0;
        const read = await readRange(row, from - lead, to);
        if (lead && (read[0] !== 0xff || read[1] !== 0xd0 + ((first - 1) % 8))) {
          throw new WsiError("CORRUPT", `${where}: restart interval ${first} does not start after a restart marker; the marker positions are wrong.`);
        }
        const bytes = read.subarray(lead);
        const ends = [];
        for (let k = first; k < last; k++) ends.push({ at: table[k + 1]! - from, marker: k + 1 === count ? 0xd9 : 0xd0 + (k % 8) });
        return { bytes, ends };
      }),
    );
    return { jpeg: spliceRestartIntervals(header, tileWidth, tileHeight, segments, where), tileWidth, tileHeight };
  };
  const readTileJpeg = async (col: number, row: number) => {
    if (starts) {
      try {
        return await tileJpeg(col, row, starts);
      } catch (error) {
        if (!(error instanceof WsiError) || error.code !== "CORRUPT") throw error;
        starts = undefined; // the file's McuStarts lie: use the markers themselves from now on
      }
    }
    return tileJpeg(col, row, await scan());
  };
  return {
    width,
    height,
    tileWidth: across * intervalWidth,
    tileHeight: down * header.mcuHeight,
    compression: "jpeg",
    async readRaw(col, row) {
      return { kind: "jpeg", bytes: (await readTileJpeg(col, row)).jpeg };
    },
    async decode(col, row, into) {
      const tile = await readTileJpeg(col, row);
      return checkSize(await decodeJpeg(tile.jpeg, fits(into, tile.tileWidth, tile.tileHeight)), tile.tileWidth, tile.tileHeight, where);
    },
  };
}

async function ndpiLevel(source: ByteSource, d: NdpiDirectory, strip: Strip): Promise<LevelReader> {
  const header = await readHeader(source, strip);
  if (header.restartInterval > 0) return restartLevel(source, d, strip, header);
  const whole = wholeJpeg(source, strip, header, limits.maxWholeLevelPixels);
  return {
    width: strip.width,
    height: strip.height,
    tileWidth: strip.width,
    tileHeight: strip.height,
    compression: "jpeg",
    readRaw: async () => ({ kind: "jpeg", bytes: await whole.read() }),
    decode: async (_col, _row, into) => whole.decode(into),
  };
}

async function ndpiProperties(d: NdpiDirectory): Promise<Pick<SlideParts, "mppX" | "mppY" | "objectivePower" | "properties">> {
  const properties: Record<string, string> = {};
  const lens = await d.number(Tag.NdpiSourceLens);
  if (lens !== undefined) properties["hamamatsu.SourceLens"] = String(lens);
  const xOffset = await d.number(Tag.NdpiXOffset);
  const yOffset = await d.number(Tag.NdpiYOffset);
  if (xOffset !== undefined) properties["hamamatsu.XOffsetFromSlideCentre"] = String(xOffset);
  if (yOffset !== undefined) properties["hamamatsu.YOffsetFromSlideCentre"] = String(yOffset);
  const reference = await d.text(Tag.NdpiReference);
  if (reference) properties["hamamatsu.Reference"] = reference;
  for (const [tag, key] of [
    [271, "tiff.Make"],
    [272, "tiff.Model"],
    [305, "tiff.Software"],
    [306, "tiff.DateTime"],
  ] as const) {
    const value = await d.text(tag);
    if (value) properties[key] = value;
  }
  for (const record of ((await d.text(Tag.NdpiPropertyMap)) ?? "").split("\r\n")) {
    const at = record.indexOf("=");
    if (at > 0 && at < record.length - 1) properties[`hamamatsu.${record.slice(0, at)}`] = record.slice(at + 1);
  }
  const unit = (await d.number(Tag.ResolutionUnit)) ?? 2;
  const mpp = async (tag: number) => {
    const res = await d.number(tag);
    return unit === 3 && res && res > 0 ? 10_000 / res : undefined;
  };
  return { mppX: await mpp(Tag.XResolution), mppY: await mpp(Tag.YResolution), objectivePower: lens && lens > 0 ? lens : undefined, properties };
}

/**
 * Hamamatsu NDPI: each directory one JPEG strip; SourceLens > 0 marks pyramid levels (focal
 * plane 0 only), −1 the macro, −2 the map (ignored). Large levels have restart markers, so a
 * tile is a run of restart intervals spliced behind the level's JPEG header and decoded alone.
 */
export const ndpiFormat: SourceFormat = {
  name: "hamamatsu-ndpi",
  claims: async (source, head) => isNdpi(source, head, await source.size()),
  async open(source, head) {
    const size = await source.size();
    const directories = await readNdpiDirectories(source, head, size);
    const levels: LevelReader[] = [];
    let macro: AssociatedReader | undefined;
    for (const d of directories) {
      const lens = await d.number(Tag.NdpiSourceLens);
      if (lens === undefined || Number.isNaN(lens))
        throw new WsiError("CORRUPT", `${source.name}: NDPI directory ${d.index} has no SourceLens (tag 65421); the file is damaged.`);
      if (lens === -2 || (lens > 0 && ((await d.number(Tag.NdpiFocalPlane)) ?? 0) !== 0)) continue; // map; other focal planes
      if (lens !== -1 && !(lens > 0)) continue;
      const strip = await readStrip(source, size, d);
      if (lens > 0) {
        levels.push(await ndpiLevel(source, d, strip));
      } else if (!macro) {
        const header = await readHeader(source, strip);
        const whole = wholeJpeg(source, strip, header, limits.maxAssociatedPixels);
        macro = { width: strip.width, height: strip.height, compression: "jpeg", read: () => whole.decode() };
      }
    }
    if (levels.length === 0) throw new WsiError("UNSUPPORTED_FORMAT", `${source.name}: an NDPI file without pyramid levels; not a whole-slide image.`);
    levels.sort((a, b) => b.width - a.width);
    return {
      format: "hamamatsu-ndpi",
      vendor: "hamamatsu",
      bigTiff: false,
      fileSize: size,
      levels,
      associated: macro ? { macro } : {},
      ...(await ndpiProperties(directories[0]!)),
    };
  },
};
