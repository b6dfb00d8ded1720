import { afterAll, describe, expect, it } from "vitest";
import { openFileSource, openSlide } from "@pathx/wsi";
import { fixturePath } from "@pathx/wsi/test-support";
import { createObjectStore, openRangeReader } from "./index";
import { describeObjectStore } from "./store-suite";
import { startLocalS3 } from "./test-support";

const env = await startLocalS3();
afterAll(() => env.stop());

describeObjectStore("S3 (s3rver over HTTP)", () => createObjectStore(env));

describe("a slide read from S3 with ranged GETs", () => {
  it("opens and reads tiles through the slide engine's byte-source interface", async () => {
    const store = createObjectStore(env);
    expect(store.kind).toBe("s3");
    const local = await openFileSource(fixturePath("CMU-1-Small-Region.svs"));
    const bytes = Buffer.from(await local.read(0, await local.size()));
    await store.put("int/slides/cmu.svs", bytes);
    const slide = await openSlide(await openRangeReader(store, "int/slides/cmu.svs"));
    expect(slide.metadata).toMatchObject({ format: "aperio-svs", width: 2220, height: 2967 });
    const remote = await slide.readTile(0, 3, 3);
    const fromFile = await (await openSlide(local)).readTile(0, 3, 3);
    expect(Buffer.compare(remote.data, fromFile.data)).toBe(0);
    await store.deletePrefix("int/");
  });
});
