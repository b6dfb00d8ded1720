import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createLocalStore } from "./local-store";
import { describeObjectStore } from "./store-suite";

const root = await mkdtemp(join(tmpdir(), "store-"));
afterAll(() => rm(root, { recursive: true, force: true }));

describeObjectStore("local folder", () => createLocalStore(root));

it("keeps objects inside its folder and leaves no temporary files", async () => {
  const store = createLocalStore(join(root, "inner"));
  await store.put("x/y.txt", Buffer.from("y"));
  expect(await readdir(join(root, "inner", "x"))).toEqual(["y.txt"]);
});
