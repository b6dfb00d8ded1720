import { writeFile } from "node:fs/promises";
import { pyramidImages, tissuePixel, writeTestTiff } from "./tiff-writer";

/**
 * A Philips TIFF as OpenSlide 3.4.1 reads it: Software "Philips…", the first description a
 * DPUfsImport XML with one WSI scanned image whose pixel-data representations give each
 * level's spacing (mm), tiled levels marked reduced-resolution, a stripped "Label" image.
 */
export async function writePhilipsTiff(path: string, options: { width: number; height: number; levels: number; micronsPerPixel?: number }): Promise<void> {
  const mm = (options.micronsPerPixel ?? 0.25) / 1000;
  const spacing = (scale: number) => `"${(mm * scale).toFixed(9)}" "${(mm * scale).toFixed(9)}"`;
  const representations = Array.from(
    { length: options.levels },
    (_, i) =>
      `<DataObject ObjectType="PixelDataRepresentation"><Attribute Name="DICOM_PIXEL_SPACING" Group="0x0028" Element="0x0030" PMSVR="IDoubleArray">${spacing(2 ** i)}</Attribute><Attribute Name="PIIM_PIXEL_DATA_REPRESENTATION_NUMBER" Group="0x101D" Element="0x1009" PMSVR="IUInt32">${i}</Attribute></DataObject>`,
  ).join("");
  const xml =
    `<?xml version="1.0" encoding="UTF-8" ?><DataObject ObjectType="DPUfsImport">` +
    `<Attribute Name="DICOM_MANUFACTURER" Group="0x0008" Element="0x0070" PMSVR="IString">PHILIPS</Attribute>` +
    `<Attribute Name="DICOM_PIXEL_SPACING" Group="0x0028" Element="0x0030" PMSVR="IDoubleArray">${spacing(1)}</Attribute>` +
    `<Attribute Name="PIM_DP_SCANNED_IMAGES" Group="0x301D" Element="0x1003" PMSVR="IDataObjectArray"><Array>` +
    `<DataObject ObjectType="DPScannedImage"><Attribute Name="PIM_DP_IMAGE_TYPE" Group="0x301D" Element="0x1004" PMSVR="IString">WSI</Attribute>` +
    `<Attribute Name="PIIM_PIXEL_DATA_REPRESENTATION_SEQUENCE" Group="0x1001" Element="0x8B01" PMSVR="IDataObjectArray"><Array>${representations}</Array></Attribute></DataObject>` +
    `</Array></Attribute></DataObject>`;
  const levels = pyramidImages(options.width, options.height, 256, options.levels, { extraTags: [[305, 2, "Philips DP v1.0"]] });
  levels[0]!.description = xml;
  const label = {
    width: 300,
    height: 200,
    description: "Label",
    pixel: (x: number, y: number): [number, number, number] => (x < 150 ? [40, 90, 200] : tissuePixel(x, y)),
  };
  await writeFile(path, writeTestTiff([...levels, label]).bytes);
}
