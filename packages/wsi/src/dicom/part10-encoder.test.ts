import dicomParser from "dicom-parser";
import { describe, expect, it } from "vitest";
import { encodeJpeg } from "../codec/jpeg";
import { photometricOfJpeg, readJpegHeader } from "../codec/jpeg-header";
import { openSlideAt } from "../slide";
import { fixturePath } from "../test-support/fixtures";
import { TransferSyntax, createUid, encodeDataset, encodeElement, encodeFileMeta } from "./part10-encoder";

describe("Part 10 encoder", () => {
  it("pads text to even length: UI with NUL, other strings with a space; numbers little endian", () => {
    expect([...encodeElement({ tag: 0x00080018, vr: "UI", value: "1.2.3" })]).toEqual([0x08, 0, 0x18, 0, 0x55, 0x49, 6, 0, ...Buffer.from("1.2.3"), 0]);
    expect(encodeElement({ tag: 0x00100020, vr: "LO", value: "abc" }).subarray(8).toString("latin1")).toBe("abc ");
    expect([...encodeElement({ tag: 0x00280010, vr: "US", value: 512 }).subarray(6)]).toEqual([2, 0, 0, 2]);
    // OB, OV, SQ, UT have a 4-byte length after two reserved bytes.
    expect([...encodeElement({ tag: 0x7fe00001, vr: "OV", value: new Uint8Array(8) }).subarray(4, 12)]).toEqual([0x4f, 0x56, 0, 0, 8, 0, 0, 0]);
  });

  it("sorts elements by tag, refuses a tag given twice and a value too long for its VR", () => {
    const out = encodeDataset([
      { tag: 0x00200013, vr: "IS", value: 1 },
      { tag: 0x00080060, vr: "CS", value: "SM" },
    ]);
    expect(out.readUInt16LE(0)).toBe(0x0008);
    expect(() =>
      encodeDataset([
        { tag: 0x00080060, vr: "CS", value: "SM" },
        { tag: 0x00080060, vr: "CS", value: "CT" },
      ]),
    ).toThrow(/given twice/);
    expect(() => encodeElement({ tag: 0x00081090, vr: "LO", value: "x".repeat(70_000) })).toThrow(/too long/);
  });

  it("writes file meta and nested sequences that an independent parser reads back", () => {
    const uid = createUid();
    const bytes = Buffer.concat([
      encodeFileMeta("1.2.840.10008.5.1.4.1.1.77.1.6", uid, TransferSyntax.explicitLittle),
      encodeDataset([
        { tag: 0x00080018, vr: "UI", value: uid },
        { tag: 0x52009229, vr: "SQ", value: [[{ tag: 0x00289110, vr: "SQ", value: [[{ tag: 0x00280030, vr: "DS", value: ["0.00025", "0.00025"] }]] }]] },
      ]),
    ]);
    const parsed = dicomParser.parseDicom(bytes);
    expect(parsed.string("x00020010")).toBe(TransferSyntax.explicitLittle);
    expect(parsed.string("x00080018")).toBe(uid);
    expect(parsed.elements.x52009229!.items![0]!.dataSet!.elements.x00289110!.items![0]!.dataSet!.string("x00280030")).toBe("0.00025\\0.00025");
    expect(uid).toMatch(/^2\.25\.\d{1,39}$/);
    expect(createUid("seed")).toBe(createUid("seed"));
    expect(createUid("seed")).not.toBe(createUid("other seed"));
  });
});

describe("JPEG header reading for DICOM's PhotometricInterpretation", () => {
  it("tells Aperio's RGB-coded tiles from YCbCr, and 4:2:2 from 4:4:4", async () => {
    const svs = await openSlideAt(fixturePath("CMU-1-Small-Region.svs"));
    const aperio = readJpegHeader((await svs.readRawTile(0, 0, 0)).bytes)!;
    expect(aperio).toMatchObject({ sof: 0xc0, width: 240, height: 240, components: 3, colour: "rgb" });
    expect(photometricOfJpeg(aperio)).toBe("RGB");
    const image = { width: 16, height: 16, data: Buffer.alloc(16 * 16 * 3, 128) };
    expect(photometricOfJpeg(readJpegHeader(await encodeJpeg(image, 80, { subsampled: true }))!)).toBe("YBR_FULL_422");
    expect(photometricOfJpeg(readJpegHeader(await encodeJpeg(image, 95))!)).toBe("YBR_FULL");
    expect(readJpegHeader(Buffer.from("not a jpeg"))).toBeUndefined();
    await svs.close();
  });
});
