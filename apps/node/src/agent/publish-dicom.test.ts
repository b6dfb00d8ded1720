import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openSlideAt, writeDicomSeries } from "@pathx/wsi";
import { fixturePath } from "@pathx/wsi/test-support";
import { writeDicomForUpload } from "./publish";

const work = await mkdtemp(join(tmpdir(), "pathx-publish-dicom-"));
afterAll(() => rm(work, { recursive: true, force: true }));

describe("a DICOM slide leaves the lab only as a re-written, de-identified instance", () => {
  it("drops what the scanner wrote about the patient, keeps the pixels, and gives the same bytes every time", { timeout: 60_000 }, async () => {
    // A series as a PACS might hold it: the patient named in the header, label included.
    const scanned = join(work, "DOE^JANE scan");
    const svs = await openSlideAt(fixturePath("CMU-1-Small-Region.svs"));
    await writeDicomSeries(svs, scanned, { patientPseudonym: "DOE^JANE-19700101", includeLabel: true });
    const pseudonym = `hmac-sha256:${"7".repeat(64)}`;
    const input = { file: scanned, accessionNumber: "N26-0300", block: "A1", stain: "H&E", specimen: "", patientPseudonym: pseudonym };
    const [a, b] = [join(work, "a"), join(work, "b")];
    await Promise.all([mkdir(a), mkdir(b)]);
    const first = await writeDicomForUpload(input, a);
    const second = await writeDicomForUpload({ ...input, accessionNumber: "N26-0301", block: "" }, b); // case details travel beside the file
    const bytes = await readFile(first);
    expect(createHash("sha256").update(bytes).digest("hex")).toBe(
      createHash("sha256")
        .update(await readFile(second))
        .digest("hex"),
    );
    expect(bytes.includes(Buffer.from("DOE^JANE"))).toBe(false);
    expect(bytes.includes(Buffer.from("7".repeat(64)))).toBe(true);
    const copy = await openSlideAt(first);
    expect(copy.metadata.associated).toEqual([]); // label and overview stay in the lab
    expect(Buffer.from((await copy.readRawTile(0, 2, 3)).bytes).equals(Buffer.from((await svs.readRawTile(0, 2, 3)).bytes))).toBe(true);
    await Promise.all([copy.close(), svs.close()]);
  });
});
