import { describe, expect, it } from "vitest";
import { createMemorySource } from "../byte-source";
import { writeTestTiff, pyramidImages, type TestImage } from "../test-support/tiff-writer";
import { readTiff } from "../tiff/directory";
import { mayBeOpenslideVendorTiff } from "./index";

const ascii = (text: string) => Array.from(Buffer.from(text, "latin1"));
async function rule(first: Partial<TestImage>, second: Partial<TestImage> = {}): Promise<boolean> {
  const [a, b] = pyramidImages(512, 384, 256, 2);
  const bytes = writeTestTiff([
    { ...a!, ...first },
    { ...b!, ...second },
  ]).bytes;
  return mayBeOpenslideVendorTiff(await readTiff(createMemorySource(bytes, "v.tif")));
}

// The native reader skips asking OpenSlide only when no directory looks like a vendor OpenSlide reads better.
describe("mayBeOpenslideVendorTiff", () => {
  it("a plain tiled pyramid, an Aperio SVS or an OME-TIFF: no need to ask OpenSlide", async () => {
    expect(await rule({})).toBe(false);
    expect(
      await rule({ description: "Aperio Image Library v12.0.15\r\n46000x32914 [0,100 46000x32814] (256x256) JPEG/RGB Q=70|AppMag = 20|MPP = 0.4990" }),
    ).toBe(false);
    expect(await rule({ description: '<?xml version="1.0"?><OME xmlns="http://www.openmicroscopy.org/Schemas/OME/2016-06"></OME>' })).toBe(false);
  });

  it("Philips (Software), Trestle (Software), Leica SCN (XML namespace), Ventana BIF (XMP, level and label descriptions): asked", async () => {
    expect(await rule({ extraTags: [[305, 2, "Philips DP v1.0"]] })).toBe(true);
    expect(await rule({ extraTags: [[305, 2, "MedScan"]] })).toBe(true);
    expect(await rule({ description: '<?xml version="1.0"?><scn xmlns="http://www.leica-microsystems.com/scn/2010/10/01"></scn>' })).toBe(true);
    expect(await rule({}, { extraTags: [[700, 1, ascii('<?xml version="1.0"?><iScan Magnification="40"/>')]] })).toBe(true);
    expect(await rule({ description: "level=0 mag=40 quality=90" })).toBe(true);
    expect(await rule({}, { description: "Label Image" })).toBe(true);
  });
});
